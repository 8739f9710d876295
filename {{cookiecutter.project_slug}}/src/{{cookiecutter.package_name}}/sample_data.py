"""The embedded sample: synthetic credit-default applications, made on demand.

Deterministic for a seed, so every orchestrator sees the same rows, and nothing
is downloaded. `sex` is the sensitive attribute the fairness gates look at; with
the default `bias=0` it has no effect on income or default, and a positive
`bias` makes a deliberately unfair variant for tests and workshops.

`drift` (0 to 1) makes the world move, for monitoring demos and tests: incomes
fall by up to 30%, a new employment category (gig) takes up to 15% of rows,
and the default rate rises. Each part has its own knob too (`income_shift`,
`new_category`, `base_rate_shift`); `drift` sets all three at once.
"""

import numpy as np
import pandas as pd

TARGET = "default"
ID = "row_id"  # stable per row: what a consent withdrawal (`forget`) names
SENSITIVE = ("sex",)
CATEGORIES = {
    "employment": ("salaried", "self_employed", "unemployed", "retired"),
    # Only in drifted samples: the category the training data never saw.
    "new_employment": ("gig",),
    "sex": ("female", "male"),
}
# params.yaml's data lines and policy.yaml's data schema for this sample: the
# generated code tests use them explicitly, whatever data the project adopted.
SETTINGS = {
    "source": "sample",
    "target": TARGET,
    "positive_label": None,
    "sensitive_features": list(SENSITIVE),
    "exclude": [],
    "id_column": ID,
}
SCHEMA = {
    "min_rows": 100,
    "columns": {
        ID: {"dtype": "str"},
        "age": {"dtype": "int", "min": 18, "max": 120},
        "income": {"dtype": "float", "min": 0},
        "loan_amount": {"dtype": "float", "min": 0},
        "credit_history_months": {"dtype": "int", "min": 0},
        "late_payments": {"dtype": "int", "min": 0},
        # gig: the drift knob's new category (monitoring's demo retrains on it)
        "employment": {"dtype": "str", "allowed": [*CATEGORIES["employment"], *CATEGORIES["new_employment"]]},
        "sex": {"dtype": "str", "allowed": list(CATEGORIES["sex"])},
        TARGET: {"dtype": "int", "allowed": [0, 1]},
    },
}


def generate(
    rows: int = 2000,
    seed: int = 42,
    bias: float = 0.0,
    drift: float = 0.0,
    *,
    income_shift: float | None = None,
    new_category: float | None = None,
    base_rate_shift: float | None = None,
) -> pd.DataFrame:
    """Return `rows` synthetic loan applications with a binary `default` label."""
    income_shift = -0.3 * drift if income_shift is None else income_shift  # relative change of income
    new_category = 0.15 * drift if new_category is None else new_category  # share of rows that are gig
    base_rate_shift = 1.2 * drift if base_rate_shift is None else base_rate_shift  # added to the logit
    rng = np.random.default_rng(seed)
    sex = rng.choice(CATEGORIES["sex"], size=rows)
    female = sex == "female"
    age = rng.integers(18, 76, size=rows)
    employment = rng.choice(CATEGORIES["employment"], size=rows, p=(0.6, 0.2, 0.1, 0.1))
    if new_category > 0:
        # A separate stream, so the knob leaves every other column's draws as they were.
        gig = np.random.default_rng([seed, 1]).random(rows) < new_category
        employment = np.where(gig, CATEGORIES["new_employment"][0], employment)
    income = rng.lognormal(mean=3.9, sigma=0.45, size=rows) * (1 + income_shift)
    income = np.round(income - bias * 25 * female, 2)
    income = np.clip(income, 5.0, None)
    loan_amount = np.round(rng.gamma(shape=2.0, scale=6.0, size=rows), 2)
    history = rng.integers(0, 481, size=rows)
    late = rng.poisson(lam=0.8, size=rows)
    logit = (
        -1.2
        + 0.8 * late
        - 0.03 * (income - 50)
        + 0.06 * loan_amount
        - 0.004 * history
        + 1.2 * (employment == "unemployed")
        - 0.01 * (age - 40)
        + bias * 1.5 * female
        + 0.8 * (employment == "gig")
        + base_rate_shift
    )
    default = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64")
    return pd.DataFrame(
        {
            ID: [f"A{index:06d}" for index in range(rows)],
            "age": age.astype("int64"),
            "income": income,
            "loan_amount": loan_amount,
            "credit_history_months": history.astype("int64"),
            "late_payments": late.astype("int64"),
            "employment": employment,
            "sex": sex,
            TARGET: default,
        }
    )
