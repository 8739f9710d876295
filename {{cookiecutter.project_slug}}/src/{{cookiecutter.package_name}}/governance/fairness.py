"""Fairness: outcome metrics per group of each sensitive attribute, with fairlearn."""

import math
import warnings

import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score

from ..errors import ProjectError

# Shown per group in the report and the model card.
GROUP_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "accuracy": accuracy_score,
}


def _number(value: object) -> float | None:
    value = float(value)  # type: ignore[arg-type]
    return None if math.isnan(value) else round(value, 6)


def assess(predictions: pd.DataFrame, attributes: tuple[str, ...]) -> dict[str, dict]:
    """Per attribute: metrics by group, overall, and the disparities the gates check.

    The disparities follow fairlearn's definitions: demographic parity difference
    is the largest gap in selection rate between groups, equalized odds
    difference the larger of the gaps in true and false positive rate, equal
    opportunity difference the gap in true positive rate, and the disparate
    impact ratio the lowest selection rate over the highest.
    """
    missing = [column for column in ("y_true", "y_pred", *attributes) if column not in predictions]
    if missing:
        raise ProjectError(f"predictions lack column(s) {', '.join(missing)}: run evaluate again")
    results = {}
    for attribute in attributes:
        with warnings.catch_warnings():
            # A group with no positives has an undefined rate; it shows as null below.
            warnings.simplefilter("ignore")
            frame = MetricFrame(
                metrics=GROUP_METRICS,
                y_true=predictions["y_true"],
                y_pred=predictions["y_pred"],
                sensitive_features=predictions[attribute].astype(str),
            )
            difference = frame.difference(method="between_groups")
            ratio = frame.ratio(method="between_groups")
        by_group = {
            str(group): {metric: _number(value) for metric, value in row.items()}
            for group, row in frame.by_group.iterrows()
        }
        gaps = [difference["true_positive_rate"], difference["false_positive_rate"]]
        results[attribute] = {
            "groups": sorted(by_group),
            "by_group": by_group,
            "overall": {metric: _number(value) for metric, value in frame.overall.items()},
            "disparities": {
                "demographic_parity_difference": _number(difference["selection_rate"]),
                "equalized_odds_difference": _number(max(gaps)),
                "equal_opportunity_difference": _number(difference["true_positive_rate"]),
                "disparate_impact_ratio": _number(ratio["selection_rate"]),
                "smallest_group_size": _number(frame.by_group["count"].min()),
            },
        }
    return results
