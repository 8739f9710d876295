"""Validate data: check the raw data against the policy's schema with pandera."""

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.files import write_json
from {{ cookiecutter.package_name }}.governance.policy import DataPolicy
from {{ cookiecutter.package_name }}.tables import read_csv

DTYPES = {"int": "int64", "float": "float64", "str": str}


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


def validate_data(raw: Path, report: Path, policy: DataPolicy) -> dict:
    """Check `raw` against the schema; write `report`; raise ProjectError when invalid."""
    frame = read_csv(raw)
    summary = {"input": str(raw), **profile(frame), "valid": True, "failures": []}
    try:
        build_schema(policy).validate(frame, lazy=True)
    except SchemaErrors as exc:
        failures = exc.failure_cases.drop_duplicates(subset=["column", "check"]).head(20)
        summary["valid"] = False
        summary["failures"] = [
            {"column": str(row.column), "check": str(row.check), "example": str(row.failure_case)}
            for row in failures.itertuples()
        ]
    write_json(report, summary)
    if not summary["valid"]:
        first = summary["failures"][0]
        more = len(summary["failures"]) - 1
        raise ProjectError(
            f"data validation failed for {raw}: column {first['column']}: {first['check']}"
            f" (example: {first['example']})" + (f" and {more} more, see {report}" if more else "")
        )
    return summary
