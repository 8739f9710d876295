"""A baked project adopts two tables unlike its sample (issue: your own data).

Each table is generated here with numpy; `init-data` adopts it, then `run`,
the baked tests and `validate` go through it: they pass where the data is fair
and accurate enough, and fail with one line per gate where it is not, never
with a traceback.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import WHOLE_SUITES, run_in, run_project


def census(rows: int = 12000, seed: int = 11) -> pd.DataFrame:
    """Text labels, an ID, 4 race groups plus sex, blanks in a number and a category; fair."""
    rng = np.random.default_rng(seed)
    education = rng.choice(["school", "college", "masters", "doctorate"], rows)
    hours = rng.normal(40, 9, rows).round(1)
    age = rng.integers(18, 80, rows).astype("float64")
    # a strong signal, so group gaps in true positive rate stay well inside the limits; mostly
    # numeric, so an unseen education category flips few decisions (the robustness gate)
    logit = 3 * (
        -1.0 + 0.15 * (hours - 40) + 1.0 * (education == "doctorate") + 0.6 * (education == "masters")
    )
    frame = pd.DataFrame(
        {
            "person_id": np.arange(rows) + 10_000,
            "age": age,
            "hours_per_week": hours,
            "education": education,
            "race": rng.choice(["w", "x", "y", "z"], rows, p=[0.3, 0.25, 0.25, 0.2]),
            "sex": rng.choice(["female", "male"], rows),
            "income": np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), ">50K", "<=50K"),
        }
    )
    frame.loc[rng.random(rows) < 0.02, "age"] = np.nan
    frame.loc[rng.random(rows) < 0.02, "education"] = None
    return frame


def churn(rows: int = 6000, seed: int = 5) -> pd.DataFrame:
    """0/1 labels, 10 regions, a gender the label leans on through a proxy: unfair."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["f", "m"], rows)
    tenure = rng.integers(1, 120, rows)
    spend = (rng.gamma(2.0, 30.0, rows) + 40 * (gender == "m")).round(2)  # a proxy for gender
    logit = -0.5 - 0.02 * (tenure - 60) + 0.04 * (spend - 80)
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_spend": spend,
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "region": rng.choice([f"r{i}" for i in range(10)], rows),
            "gender": gender,
            "churned": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64"),
        }
    )


def baked_tests(project, *paths: str) -> subprocess.CompletedProcess:
    """The baked suite as `make test` runs it, or its `paths` alone (the slow kfp.local runs test
    the code, on the sample)."""
    command = ["pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow and not network", *paths]
    return run_in(project, sys.executable, "-m", *command, check=False)


def adopt(project, name: str, frame: pd.DataFrame, *args: str) -> None:
    (project / "data").mkdir(exist_ok=True)
    frame.to_csv(project / "data" / name, index=False)
    result = run_project(project, "init-data", f"data/{name}", *args)
    assert "review:" in result.stdout, result.stdout
    # what the review asks a person to do: write the model card for this data
    policy = project / "governance/policy.yaml"
    policy.write_text(policy.read_text().replace("[template] ", ""))


@pytest.mark.slow
def test_a_fair_table_is_adopted_run_tested_and_validated(bake):
    # given a baked project (its whole suite runs here only: conftest.WHOLE_SUITES) and a
    # census-like table with text labels, an ID and blanks
    project = bake(**WHOLE_SUITES["own data"])
    adopt(
        project,
        "census.csv",
        census(),
        "--target",
        "income",
        "--positive-label",
        ">50K",
        "--sensitive",
        "race,sex",
        "--exclude",
        "person_id",
    )
    # when the pipeline runs, then it passes every gate and releases the model
    result = run_project(project, "run", check=False)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "verdict=pass" in result.stdout, result.stdout
    # and the baked tests pass without editing one
    tests = baked_tests(project)
    assert tests.returncode == 0, f"baked tests failed on adopted data:\n{tests.stdout[-4000:]}"
    # and validate finds nothing
    assert "no findings" in run_in(project, sys.executable, "-m", "mlops_validator").stdout


@pytest.mark.slow
def test_an_unfair_table_fails_one_line_per_gate_and_so_does_the_contract_test_of_the_gates(bake):
    # given a baked project and a churn table whose label leans on gender through a proxy
    project = bake()
    adopt(project, "churn.csv", churn(), "--target", "churned", "--sensitive", "gender,region")
    # when the pipeline runs, then govern fails with one line per failed gate, no traceback
    result = run_project(project, "run", check=False)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert result.returncode == 2 and errors, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert all(" gate failed" in line for line in errors), result.stderr
    assert any("fairness gate failed for gender" in line for line in errors), result.stderr
    # and of the contract tests, the only ones that read the adopted data (the tests of the
    # code run on the sample, as the fair table's whole suite shows), the gates' test alone
    # fails, naming the gate
    tests = baked_tests(project, "tests/test_contract.py")
    failed = [line for line in tests.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "test_the_model_passes_every_governance_gate" in failed[0], tests.stdout[
        -4000:
    ]
    assert "fairness gate failed for gender" in tests.stdout, tests.stdout[-4000:]
    # and validate finds nothing wrong with the files themselves
    assert "no findings" in run_in(project, sys.executable, "-m", "mlops_validator").stdout
