"""Validate data: check the raw data against the policy's schema with pandera."""

from pathlib import Path
from typing import TypedDict

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..errors import ProjectError
from ..files import write_json
from ..governance.policy import DataPolicy
from ..tables import read_csv

DTYPES = {"int": "int64", "float": "float64", "str": str}


class Failure(TypedDict):
    column: str
    check: str
    example: str
    rows: int
    message: str


class ValidationReport(TypedDict):
    """data_validation.json; lineage reads input, rows and null_counts for its dataset facets."""

    input: str
    rows: int
    columns: dict[str, str]
    null_counts: dict[str, int]
    valid: bool
    failures: list[Failure]


def build_schema(policy: DataPolicy) -> pa.DataFrameSchema:
    """Translate the policy's data section into a pandera schema."""
    columns = {}
    for name, rule in policy.columns.items():
        checks = []
        if rule.min is not None:
            checks.append(pa.Check.ge(rule.min))
        if rule.max is not None:
            checks.append(pa.Check.le(rule.max))
        if rule.allowed is not None:
            checks.append(pa.Check.isin(list(rule.allowed)))
        columns[name] = pa.Column(DTYPES[rule.dtype], checks=checks, nullable=rule.nullable, coerce=True)
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(lambda df: len(df) >= policy.min_rows, name=f"at least {policy.min_rows} rows")],
        strict=True,
    )


def profile(frame: pd.DataFrame) -> dict:
    """Row count, null counts and column types: the facts lineage and reports quote."""
    return {
        "rows": len(frame),
        "columns": {column: str(dtype) for column, dtype in frame.dtypes.items()},
        "null_counts": {column: int(count) for column, count in frame.isna().sum().items()},
    }


def _failure(column: str, check: str, example: object, rows: int, message: str) -> Failure:
    return {"column": column, "check": check, "example": str(example), "rows": rows, "message": message}


def _failures(cases: pd.DataFrame) -> list[Failure]:
    """Every problem: one entry per missing or extra column, and per column and failed check."""
    failures: list[Failure] = []
    for check, column_check in (
        ("column_in_dataframe", "is missing"),
        ("column_in_schema", "is not in the schema"),
    ):
        for name in cases.loc[cases["check"] == check, "failure_case"].drop_duplicates():
            failures.append(_failure(str(name), check, name, 0, f"column {name} {column_check}"))
    per_column = cases[~cases["check"].isin(["column_in_dataframe", "column_in_schema"])]
    wrong_type = set(per_column.loc[per_column["check"].str.contains(r"dtype\(", regex=True), "column"])
    for (column, check), group in per_column.groupby(["column", "check"], dropna=False, sort=False):
        example = group["failure_case"].iloc[0]
        if pd.isna(column):
            failures.append(_failure("", check, example, 0, f"the data set fails the check '{check}'"))
        elif column in wrong_type:
            blanks = group["failure_case"].isna()
            if check.startswith("coerce_dtype") and blanks.any():  # blanks where the schema allows none
                failures.append(
                    _failure(
                        column,
                        "not_nullable",
                        "",
                        int(blanks.sum()),
                        f"column {column} has "
                        f"{int(blanks.sum())} empty value(s) (allow them with nullable: true)",
                    )
                )
            if check.startswith("coerce_dtype") and not blanks.all():  # one line, not one per check
                wanted = check.split("'")[1] if "'" in check else check
                example = group.loc[~blanks, "failure_case"].iloc[0]
                failures.append(
                    _failure(
                        column,
                        "dtype",
                        example,
                        len(group),
                        f"column {column} should hold {wanted} values, "
                        f"found {example!r} in {len(group)} row(s)",
                    )
                )
        elif check == "not_nullable":
            failures.append(
                _failure(column, check, "", len(group), f"column {column} has {len(group)} empty value(s)")
            )
        else:
            failures.append(
                _failure(
                    column,
                    check,
                    example,
                    len(group),
                    f"column {column} fails {check} in {len(group)} row(s), for example {example!r}",
                )
            )
    return failures


def validate_data(
    raw: Path,
    report: Path,
    policy: DataPolicy,
    source: str | None = None,
    settings_problems: list[str] | None = None,
) -> ValidationReport:
    """Check `raw` against the schema; write `report`; raise ProjectError naming every problem.

    `source` is the file the user gave (data.source), named in the messages
    instead of the working copy `raw`; `settings_problems` are disagreements
    between params.yaml and the policy, reported with the data's problems.
    """
    frame = read_csv(raw)
    summary: ValidationReport = {"input": str(raw), **profile(frame), "valid": True, "failures": []}  # type: ignore[typeddict-item]
    try:
        build_schema(policy).validate(frame, lazy=True)
    except SchemaErrors as exc:
        summary["valid"] = False
        summary["failures"] = _failures(exc.failure_cases)
    for problem in settings_problems or []:
        summary["valid"] = False
        summary["failures"].append(_failure("", "params", "", 0, problem))
    write_json(report, summary)
    if not summary["valid"]:
        # One line per problem (the CLI prints each as an "Error:" line), all at once.
        named = source if source and source != "sample" else str(raw)
        lines = [
            failure["message"] if failure["check"] == "params" else f"{named}: {failure['message']}"
            for failure in summary["failures"]
        ]
        header = f"data validation failed for {named}: {len(lines)} problem(s), also listed in {report}"
        raise ProjectError("\n".join([header, *lines]))
    return summary
