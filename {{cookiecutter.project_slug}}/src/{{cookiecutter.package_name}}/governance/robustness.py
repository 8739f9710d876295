"""Robustness: how many held-out decisions flip under small, plausible input changes.

Two perturbations of the test split, each compared with the unperturbed
decisions (score >= 0.5):
  noise_flip_rate             every numeric input moved by Gaussian noise of
                              `noise_scale` times its standard deviation
  unseen_category_flip_rate   every categorical input written differently
                              (upper case), as a new data source might
A model whose decisions flip for inputs this close is not one to release; the
rates are gated by policy (robustness.gates).
"""

import numpy as np
import pandas as pd


def _flip_rate(model, before: np.ndarray, rows: pd.DataFrame) -> float:
    after = model.predict_proba(rows)[:, 1] >= 0.5
    return round(float(np.mean(before != after)), 6)


def flip_rates(model, rows: pd.DataFrame, features: list[str], noise_scale: float, seed: int) -> dict:
    """The share of test decisions that change under each perturbation."""
    inputs = rows[features]
    before = model.predict_proba(inputs)[:, 1] >= 0.5
    numeric = [c for c in features if inputs[c].dtype.kind in "if"]
    categorical = [c for c in features if c not in numeric]
    rng = np.random.default_rng(seed)
    noisy = inputs.copy()
    for column in numeric:
        spread = float(inputs[column].std()) or 1.0
        moved = inputs[column] + rng.normal(0.0, noise_scale * spread, size=len(inputs))
        whole = inputs[column].dtype.kind == "i"
        noisy[column] = moved.round().astype(inputs[column].dtype) if whole else moved
    shifted = inputs.copy()
    for column in categorical:
        shifted[column] = inputs[column].astype(str).str.upper()
    return {
        "noise_scale": noise_scale,
        "numeric_inputs": numeric,
        "categorical_inputs": categorical,
        "noise_flip_rate": _flip_rate(model, before, noisy),
        "unseen_category_flip_rate": _flip_rate(model, before, shifted) if categorical else 0.0,
    }
