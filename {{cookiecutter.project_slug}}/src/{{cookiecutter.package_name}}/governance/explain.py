"""Global explanation: how much the model's held-out score depends on each input.

Permutation importance (Breiman): shuffle one input column at a time and
measure how far ROC AUC falls. It works for any estimator, needs no extra
dependency, and reads in the units of the metric the performance gate uses. It
explains the model globally, not single decisions.

The numbers are scikit-learn's `permutation_importance` (scoring="roc_auc",
the same shuffles from the same seed; tests/test_robustness.py holds them
equal), computed faster: scikit-learn scores each shuffle with its own call
through the model's pipeline, which cost half of a pipeline run on the sample;
here each column's shuffles go through the model in one call, and ROC AUC is
read from ranks.
"""

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.utils.random import sample_without_replacement

REPEATS = 5
# Each repeat shuffles a sample of at most this many held-out rows: enough for a
# stable ranking, and govern's cost stops growing with the data (sklearn's max_samples).
MAX_ROWS = 5000


def importance(model, rows: pd.DataFrame, target: pd.Series, features: list[str], seed: int) -> dict:
    """Per input column: mean and spread of the ROC AUC drop when it is shuffled, largest first."""
    inputs = rows[features].reset_index(drop=True)
    positive = np.asarray(target) == model.classes_[1]
    baseline = roc_auc(positive, _scores(model, inputs))
    # scikit-learn's draws: every column starts from one seed, so each draws the
    # same row sample, then shuffles one index array in place, repeat after repeat.
    random_state = np.random.RandomState(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))
    sample = min(len(inputs), MAX_ROWS)
    picked = np.arange(len(inputs))
    if sample < len(inputs):
        picked = sample_without_replacement(len(inputs), sample, random_state=random_state)
    base_rows, truth = inputs.iloc[picked].reset_index(drop=True), positive[picked]
    after_sampling = random_state.get_state()
    by_feature = {}
    for feature in features:
        random_state.set_state(after_sampling)
        shuffled_values, order = base_rows[feature].to_numpy(), np.arange(sample)
        copies = []
        for _ in range(REPEATS):
            random_state.shuffle(order)
            shuffled_values = shuffled_values[order]
            copies.append(base_rows.assign(**{feature: shuffled_values}))
        scores = _scores(model, pd.concat(copies, ignore_index=True)).reshape(REPEATS, sample)
        drops = baseline - np.array([roc_auc(truth, repeat) for repeat in scores])
        by_feature[feature] = {"mean": round(float(drops.mean()), 6), "std": round(float(drops.std()), 6)}
    ranked = dict(sorted(by_feature.items(), key=lambda item: -item[1]["mean"]))
    return {
        "method": "permutation importance",
        "metric": "roc_auc",
        "repeats": REPEATS,
        "rows": sample,
        "features": ranked,
    }


def _scores(model, inputs: pd.DataFrame) -> np.ndarray:
    """What scikit-learn's roc_auc scorer ranks: the decision function, else P(positive class)."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(inputs), dtype=float)
    return np.asarray(model.predict_proba(inputs)[:, 1], dtype=float)


def roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve, from ranks (Mann-Whitney U; ties count half)."""
    positives = int(np.count_nonzero(positive))
    negatives = len(positive) - positives
    if not positives or not negatives:
        raise ValueError("ROC AUC needs both classes among the held-out rows")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))
