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


def _failures(cases: pd.DataFrame) -> list[Failure]:
    """One entry per column and problem, in words, with an example and a row count."""
    wrong_type = set(cases.loc[cases["check"].str.contains(r"dtype\(", regex=True), "column"])
    failures, seen = [], set()
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        example = group["failure_case"].iloc[0]
        column = None if pd.isna(column) else column
        if column in wrong_type and (check.startswith("coerce_dtype") or "dtype" not in check):
            continue  # one line for a wrong type, not one per check it breaks
        if check == "column_in_dataframe":
            column, message = str(example), f"column {example} is missing"
        elif check == "column_in_schema":
            column, message = str(example), f"column {example} is not in the policy's schema"
        elif column is None:
            message = f"the data set fails the check '{check}'"
        elif check == "not_nullable":
            message = f"column {column} has {len(group)} empty value(s)"
        elif "dtype" in check:
            wanted = check.split("'")[1] if "'" in check else check
            message = f"column {column} should hold {wanted} values, found {example!r}"
        else:
            message = f"column {column} fails {check} in {len(group)} row(s), for example {example!r}"
        if (column, message) not in seen:
            seen.add((column, message))
            failures.append(
                {"column": str(column), "check": str(check), "example": str(example), "rows": len(group)}
                | {"message": message}
            )
    return failures


def validate_data(raw: Path, report: Path, policy: DataPolicy) -> ValidationReport:
    """Check `raw` against the schema; write `report`; raise ProjectError when invalid."""
    frame = read_csv(raw)
    summary: ValidationReport = {"input": str(raw), **profile(frame), "valid": True, "failures": []}  # type: ignore[typeddict-item]
    try:
        build_schema(policy).validate(frame, lazy=True)
    except SchemaErrors as exc:
        summary["valid"] = False
        summary["failures"] = _failures(exc.failure_cases)[:20]
    write_json(report, summary)
    if not summary["valid"]:
        # One line (the CLI's rule for bad input) that still names several problems at once.
        messages = [failure["message"] for failure in summary["failures"]]
        more = f"; and {len(messages) - 3} more, see {report}" if len(messages) > 3 else ""
        raise ProjectError(f"data validation failed for {raw}: " + "; ".join(messages[:3]) + more)
    return summary
