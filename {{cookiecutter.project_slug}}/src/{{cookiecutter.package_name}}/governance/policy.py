"""governance/policy.yaml as one strict, frozen object."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.settings import load_yaml_model

DEFAULT_POLICY = Path("governance/policy.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRule(_Strict):
    dtype: Literal["int", "float", "str"]
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = None
    nullable: bool = False


class DataPolicy(_Strict):
    min_rows: int = Field(1, ge=1)
    columns: dict[str, ColumnRule]


class Policy(_Strict):
    version: str
    profile: Literal["standard", "strict", "minimal"]
    data: DataPolicy


def load_policy(path: Path | None = None) -> Policy:
    """Read and check the governance policy file."""
    return load_yaml_model(Path(path or DEFAULT_POLICY), Policy, "--policy")
