"""Drift statistics: PSI plus a two-sample test per column (Kolmogorov-Smirnov or chi-squared).

PSI (population stability index) measures how far a distribution moved; the
test says whether the move is more than sampling noise. A column drifts when
both agree (see monitor.py), so a tiny but significant change on a million rows
and a large but noisy one on fifty rows are not alarms.

Numeric columns are binned at the reference's deciles; categorical columns use
one bin per category, new categories included. An empty bin counts as
EPSILON, so PSI stays finite when a category appears or vanishes.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

EPSILON = 1e-4
DECILES = np.linspace(0.1, 0.9, 9)


@dataclass(frozen=True)
class Drift:
    """One column compared with its reference."""

    kind: str  # "numeric" or "categorical"
    psi: float
    test: str  # "ks" or "chi2"
    statistic: float
    p_value: float


def bin_edges(reference: np.ndarray) -> list[float]:
    """Inner bin edges at the reference's deciles (fewer when values repeat)."""
    values = reference[~np.isnan(reference)]
    if values.size == 0:
        return []
    return sorted({float(edge) for edge in np.quantile(values, DECILES, method="inverted_cdf")})


def bin_fractions(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Share of non-missing values per bin: (-inf, e1], (e1, e2], ..., (ek, inf)."""
    values = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="left"), minlength=len(edges) + 1)
    return counts / max(values.size, 1)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two vectors of bin shares: sum((a - e) * ln(a / e))."""
    expected = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def quantile_sample(values: np.ndarray, size: int) -> list[float]:
    """`size` evenly spaced order statistics: the reference's distribution, small enough to ship."""
    values = np.sort(values[~np.isnan(values)])
    if values.size <= size:
        return values.tolist()
    positions = ((np.arange(size) + 0.5) * values.size / size).astype(int)
    return values[positions].tolist()


def numeric_drift(
    edges: list[float], fractions: list[float], sample: list[float], current: np.ndarray
) -> Drift:
    """PSI on the reference's decile bins and the two-sample KS test against its quantile sample."""
    current = np.asarray(current, dtype=float)
    present = current[~np.isnan(current)]
    value = psi(np.asarray(fractions), bin_fractions(present, edges))
    if present.size == 0 or not sample:
        return Drift("numeric", value, "ks", math.nan, math.nan)
    result = stats.ks_2samp(np.asarray(sample), present)
    return Drift("numeric", value, "ks", float(result.statistic), float(result.pvalue))


def categorical_drift(reference_counts: dict[str, int], current_counts: dict[str, int]) -> Drift:
    """PSI over the union of categories and Pearson's chi-squared test of the 2 x k table."""
    categories = sorted(set(reference_counts) | set(current_counts))
    expected = np.array([reference_counts.get(c, 0) for c in categories], dtype=float)
    actual = np.array([current_counts.get(c, 0) for c in categories], dtype=float)
    value = psi(expected / max(expected.sum(), 1), actual / max(actual.sum(), 1))
    table = np.vstack([expected, actual])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or actual.sum() == 0 or expected.sum() == 0:
        return Drift("categorical", value, "chi2", 0.0, 1.0)
    result = stats.chi2_contingency(table, correction=False)
    return Drift("categorical", value, "chi2", float(result.statistic), float(result.pvalue))


def value_counts(values) -> dict[str, int]:
    """Counts per category as plain strings; missing values under "<missing>"."""
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype="object")
    counts = series.value_counts(dropna=False)
    return {("<missing>" if pd.isna(k) else str(k)): int(v) for k, v in counts.items()}
