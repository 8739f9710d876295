"""Global explanation: how much the model's held-out score depends on each input.

Permutation importance (Breiman; scikit-learn's implementation): shuffle one
input column at a time and measure how far ROC AUC falls. It works for any
estimator, needs no extra dependency, and reads in the units of the metric the
performance gate uses. It explains the model globally, not single decisions.
"""

import pandas as pd
from sklearn.inspection import permutation_importance

REPEATS = 5
# Each repeat shuffles a sample of at most this many held-out rows: enough for a
# stable ranking, and govern's cost stops growing with the data (sklearn's max_samples).
MAX_ROWS = 5000


def importance(model, rows: pd.DataFrame, target: pd.Series, features: list[str], seed: int) -> dict:
    """Per input column: mean and spread of the ROC AUC drop when it is shuffled, largest first."""
    sample = min(len(rows), MAX_ROWS)
    result = permutation_importance(
        model,
        rows[features],
        target,
        scoring="roc_auc",
        n_repeats=REPEATS,
        random_state=seed,
        max_samples=sample,
    )
    by_feature = {
        feature: {"mean": round(float(mean), 6), "std": round(float(std), 6)}
        for feature, mean, std in zip(features, result.importances_mean, result.importances_std, strict=True)
    }
    ranked = dict(sorted(by_feature.items(), key=lambda item: -item[1]["mean"]))
    return {
        "method": "permutation importance",
        "metric": "roc_auc",
        "repeats": REPEATS,
        "rows": sample,
        "features": ranked,
    }
