"""The group metrics behind the fairness gates, checked against fairlearn's MetricFrame."""

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import accuracy_score

from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.governance.fairness import assess

ORACLE = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "accuracy": accuracy_score,
}


def _fairlearn(predictions: pd.DataFrame, attribute: str) -> MetricFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # groups without positives or negatives
        return MetricFrame(
            metrics=ORACLE,
            y_true=predictions["y_true"],
            y_pred=predictions["y_pred"],
            sensitive_features=predictions[attribute].astype(str),
        )


def _random_predictions(seed: int, rows: int, groups: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "y_true": rng.integers(0, 2, rows),
            "y_pred": rng.integers(0, 2, rows),
            # uneven group sizes, some groups tiny
            "race": rng.choice([f"g{i}" for i in range(groups)], rows, p=rng.dirichlet(np.ones(groups))),
            "sex": rng.choice(["female", "male"], rows),
        }
    )
    # one small group with no positive label and one with no negative label
    frame.loc[:2, ["race", "y_true"]] = ["only_negatives", 0]
    frame.loc[3:5, ["race", "y_true"]] = ["only_positives", 1]
    return frame


@pytest.mark.parametrize("groups", [2, 3, 5, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_metrics_and_disparities_equal_fairlearns_on_random_data(seed, groups):
    # given random predictions with two sensitive attributes at once
    predictions = _random_predictions(seed, rows=400 + 97 * seed, groups=groups)
    # when both are assessed
    result = assess(predictions, ("race", "sex"))
    # then every group metric, overall value and disparity matches fairlearn's
    for attribute in ("race", "sex"):
        oracle = _fairlearn(predictions, attribute)
        mine = result[attribute]
        assert mine["groups"] == sorted(oracle.by_group.index), f"{attribute}: groups differ"
        for group, row in oracle.by_group.iterrows():
            for metric, value in row.items():
                assert mine["by_group"][group][metric] == pytest.approx(value, abs=1e-6), (
                    f"{attribute}={group} {metric}: {mine['by_group'][group][metric]} vs fairlearn {value}"
                )
        for metric, value in oracle.overall.items():
            assert mine["overall"][metric] == pytest.approx(value, abs=1e-6), f"overall {metric}"
        difference = oracle.difference(method="between_groups")
        ratio = oracle.ratio(method="between_groups")
        expected = {
            "demographic_parity_difference": difference["selection_rate"],
            "equalized_odds_difference": max(
                difference["true_positive_rate"], difference["false_positive_rate"]
            ),
            "equal_opportunity_difference": difference["true_positive_rate"],
            "disparate_impact_ratio": ratio["selection_rate"],
            "smallest_group_size": oracle.by_group["count"].min(),
        }
        for metric, value in expected.items():
            assert mine["disparities"][metric] == pytest.approx(value, abs=1e-6), (
                f"{attribute} {metric}: {mine['disparities'][metric]} vs fairlearn {value}"
            )


def test_disparate_impact_is_missing_when_no_group_is_selected():
    # given a model that selects nobody
    predictions = pd.DataFrame({"y_true": [0, 1, 0, 1], "y_pred": [0, 0, 0, 0], "sex": list("aabb")})
    # then the ratio is undefined (fairlearn: NaN), reported as missing, and the parity gap is 0
    disparities = assess(predictions, ("sex",))["sex"]["disparities"]
    assert disparities["disparate_impact_ratio"] is None, disparities
    assert disparities["demographic_parity_difference"] == 0.0, disparities


def test_blanks_in_a_sensitive_attribute_are_one_error_naming_it():
    # given predictions where the attribute is unknown for one row (fairlearn refuses those too)
    predictions = pd.DataFrame({"y_true": [0, 1, 0, 1], "y_pred": [0, 1, 1, 1], "sex": ["a", None, "b", "b"]})
    # then assessing it is one error naming the attribute and the count, not a crash
    with pytest.raises(ProjectError, match=r"sensitive attribute sex is empty in 1 row\(s\): fill them"):
        assess(predictions, ("sex",))
