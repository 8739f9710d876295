"""Explainability and robustness: importance per input, and a gate on decisions that flip."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score

from conftest import edit_policy, prepare
from {{ cookiecutter.package_name }}.errors import GateFailed, ProjectError
from {{ cookiecutter.package_name }}.features import feature_columns, labels
from {{ cookiecutter.package_name }}.governance import explain
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.governance.robustness import flip_rates
from {{ cookiecutter.package_name }}.steps import run_step
from {{ cookiecutter.package_name }}.steps.govern import model_card_json
from {{ cookiecutter.package_name }}.tables import read_csv, split


def test_report_and_model_card_rank_every_model_input_by_importance(settings, policy):
    # given a run up to evaluate, when govern runs
    prepare(settings, policy)
    summary = run_step("govern", settings, policy)
    # then every model input (and no sensitive attribute) has a permutation importance
    importance = summary["feature_importance"]["features"]
    assert "sex" not in importance and "income" in importance, f"inputs ranked: {list(importance)}"
    assert list(importance)[:2] == sorted(list(importance)[:2], key=lambda k: -importance[k]["mean"])
    assert {"late_payments", "income"} & set(list(importance)[:2]), f"the sample's drivers: {importance}"
    # and the model card and the report show them
    assert "Feature importance" in settings.paths.model_card.read_text(), "model card lacks importance"
    card = model_card_json(settings.paths.model_card).read_text()
    assert "unseen_category_flip_rate" in card, "model card lacks the robustness rates"
    page = settings.paths.governance_html.read_text()
    assert "Explainability" in page and "Robustness" in page, "report lacks the sections"


def test_robustness_gate_fails_when_decisions_flip_under_noise(workdir, settings, policy):
    # given a policy that tolerates no flipped decision under large noise
    prepare(settings, policy)
    edit_policy(
        workdir,
        lambda p: p["robustness"].update(noise_scale=0.5, gates={"noise_flip_rate": {"max": 0.0}}),
    )
    # when govern runs, then the robustness gate fails naming the metric and the limit
    failure = r"robustness gate failed: noise_flip_rate = [0-9.]+ is above the max 0"
    with pytest.raises(GateFailed, match=failure):
        run_step("govern", settings, load_policy())


def test_a_model_that_ignores_its_inputs_never_flips():
    # given a constant model and some rows
    rows = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "kind": ["a", "b", "a", "b"]})
    model = DummyClassifier(strategy="prior").fit(rows, [0, 1, 1, 1])
    # when perturbed, then no decision flips
    rates = flip_rates(model, rows, ["x", "kind"], noise_scale=0.5, seed=1)
    assert rates["noise_flip_rate"] == 0 and rates["unseen_category_flip_rate"] == 0, rates


def test_policy_rejects_an_unknown_robustness_gate(workdir):
    # given a gate the perturbation test does not measure
    edit_policy(workdir, lambda p: p["robustness"]["gates"].update(adversarial_rate={"max": 0.1}))
    # when the policy is read, then one error names where
    with pytest.raises(ProjectError, match="robustness.gates"):
        load_policy()


def test_importance_shuffles_at_most_max_rows_and_keeps_the_ranking(settings, policy, monkeypatch):
    # given a trained model and its held-out rows
    prepare(settings, policy)
    frame = read_csv(settings.paths.raw_data)
    _, test_rows = split(frame, settings.data)
    model = joblib.load(settings.paths.model)
    columns = feature_columns(frame, settings.data).columns
    full = explain.importance(model, test_rows, labels(test_rows, settings.data), columns, settings.data.seed)
    # when importance may shuffle only 400 of them
    monkeypatch.setattr(explain, "MAX_ROWS", 400)
    capped = explain.importance(
        model, test_rows, labels(test_rows, settings.data), columns, settings.data.seed
    )
    # then it says so, ranks every input, and the two strongest inputs stay on top
    assert full["rows"] == len(test_rows) > 400 and capped["rows"] == 400, (full["rows"], capped["rows"])
    assert set(capped["features"]) == set(full["features"]), capped["features"]
    assert set(list(capped["features"])[:2]) == set(list(full["features"])[:2]), (capped, full)


@pytest.mark.parametrize("max_rows", [explain.MAX_ROWS, 400])
def test_importance_equals_scikit_learns_permutation_importance(settings, policy, monkeypatch, max_rows):
    # given a trained model and its held-out rows
    prepare(settings, policy)
    frame = read_csv(settings.paths.raw_data)
    _, test_rows = split(frame, settings.data)
    model = joblib.load(settings.paths.model)
    columns = feature_columns(frame, settings.data).columns
    target = labels(test_rows, settings.data)
    monkeypatch.setattr(explain, "MAX_ROWS", max_rows)
    # when importance is computed here and by scikit-learn (the oracle) from the same seed
    ours = explain.importance(model, test_rows, target, columns, settings.data.seed)["features"]
    theirs = permutation_importance(
        model,
        test_rows[columns],
        target,
        scoring="roc_auc",
        n_repeats=explain.REPEATS,
        random_state=settings.data.seed,
        max_samples=min(len(test_rows), max_rows),
    )
    # then every column's mean and spread agree
    for column, mean, std in zip(columns, theirs.importances_mean, theirs.importances_std, strict=True):
        assert ours[column] == {"mean": round(float(mean), 6), "std": round(float(std), 6)}, column


def test_roc_auc_from_ranks_equals_scikit_learns_with_ties():
    rng = np.random.default_rng(7)
    for size in (2, 10, 1000):
        positive = np.arange(size) % 2 == 0
        rng.shuffle(positive)
        scores = rng.integers(0, 5, size).astype(float)  # few values: many ties
        assert explain.roc_auc(positive, scores) == pytest.approx(roc_auc_score(positive, scores), abs=1e-12)
    with pytest.raises(ValueError, match="both classes"):
        explain.roc_auc(np.ones(3, dtype=bool), np.arange(3.0))
