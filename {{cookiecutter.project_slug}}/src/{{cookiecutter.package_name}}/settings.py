"""params.yaml (and the environment) as one strict, frozen settings object."""

import os
from difflib import get_close_matches
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InvalidFile, ProjectError
from .project import ENV_PREFIX

PARAMS_ENV = f"{ENV_PREFIX}_PARAMS"
DEFAULT_PARAMS = Path("params.yaml")
ModelT = TypeVar("ModelT", bound=BaseModel)
# libyaml's safe loader where PyYAML has it (its wheels do): the same documents,
# about ten times faster than the pure-Python one, which the tests feel most.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    """`text` as yaml.safe_load reads it."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506  # nosec B506


def reads_back_as_text(text: str) -> bool:
    """Whether `text`, written unquoted, reads back as the same text here (YAML 1.1:
    yes, no, on and off are booleans; 1.0 a number; a colon may make a mapping)."""
    try:
        return read_yaml(text) == text
    except yaml.YAMLError:
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(_Strict):
    source: str = "sample"
    rows: int = Field(5000, ge=50)
    seed: int = 42
    target: str = "default"
    sensitive_features: tuple[str, ...] = ("sex",)
    # The target value that means "positive" when the label is text (">50K"); None: labels are 0/1.
    positive_label: str | int | None = None
    # Columns that never reach the model (IDs, free text, leaks); see features.py.
    exclude: tuple[str, ...] = ()
    # The column that names each row (never a model input), and the register of
    # rows whose use was withdrawn (`forget`): ingest drops them.
    id_column: str | None = "row_id"
    erasure_register: Path = Path("governance/erasure_register.json")
    test_size: float = Field(0.25, gt=0.0, lt=1.0)
    # 0 to 1: how far the sample's world has moved from the default (see sample_data.generate).
    drift: float = Field(0.0, ge=0.0, le=1.0)


class ModelSettings(_Strict):
    algorithm: str = "logistic_regression"  # a kind registered in models.py
    C: float = Field(1.0, gt=0.0)
    max_iter: int = Field(1000, ge=1)
    n_estimators: int = Field(200, ge=1)
    max_depth: int | None = Field(8, ge=1)
    random_state: int = 42
    # Extra keyword arguments for the chosen estimator (a new kind's own knobs).
    options: dict[str, str | int | float | bool | None] = {}

    @field_validator("algorithm")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        from .models import check_kind

        try:
            return check_kind(kind)
        except ProjectError as exc:
            raise ValueError(str(exc).removeprefix("model.algorithm ")) from None


# A grid value: what a model setting takes (ModelSettings checks each one).
GridValue = str | int | float | None


class SweepSettings(_Strict):
    """`sweep`: model settings to try side by side, before choosing one for `model:`."""

    # Each key a field of `model:`, each value a list to try; sweep trains every combination.
    grid: dict[str, tuple[GridValue, ...]] = {}
    # The variants' data, models and metrics, and variants.json / variants.md.
    folder: Path = Path("artifacts/sweep")
    # Rows of the test split, spread evenly, each predicted alone to time latency (the median).
    latency_rows: int = Field(100, ge=1)

    @field_validator("grid")
    @classmethod
    def _model_settings(cls, grid: dict[str, tuple[GridValue, ...]]) -> dict[str, tuple[GridValue, ...]]:
        """Every key a model setting, every value one that setting accepts; all problems at once."""
        problems = []
        for key, values in grid.items():
            if key not in ModelSettings.model_fields or key == "options":
                close = get_close_matches(key, [f for f in ModelSettings.model_fields if f != "options"], n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{key} is not a model setting{hint}")
                continue
            if not values:
                problems.append(f"{key} lists no values")
            for value in values:
                try:
                    ModelSettings.model_validate({key: value})
                except ValidationError as exc:
                    problems.append(f"{key}={value}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
        if problems:
            raise ValueError("; ".join(problems))
        return grid


class PathSettings(_Strict):
    raw_data: Path = Path("artifacts/data/raw.csv")
    validation_report: Path = Path("artifacts/reports/data_validation.json")
    model: Path = Path("artifacts/model/model.joblib")
    footprint: Path = Path("artifacts/model/footprint.json")  # train's CPU time and energy estimate
    metrics: Path = Path("artifacts/metrics/metrics.json")
    predictions: Path = Path("artifacts/metrics/predictions.csv")
    governance_report: Path = Path("artifacts/reports/governance.json")
    governance_html: Path = Path("artifacts/reports/governance.html")
    model_card: Path = Path("artifacts/reports/model_card.md")  # model_card.json is written beside it
    provenance: Path = Path("artifacts/reports/provenance.json")
    # A folder of releases: <version>/ each, champion.json and release-log.jsonl beside them.
    release: Path = Path("artifacts/releases")


class ReleaseSettings(_Strict):
    # true: package makes the release it writes the champion (govern's regression
    # gate has already compared it with the one in service); false: `promote` does.
    auto_promote: bool = True
    # On the cluster: the share of traffic a newly deployed release gets from
    # KServe (canaryTrafficPercent); 100 rolls it out at once.
    canary_traffic_percent: int = Field(100, ge=0, le=100)


class ServingSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # JSON lines, one per row predicted; renamed to .1, .2 ... past max_bytes.
    inference_log: Path = Path("artifacts/serving/inference.jsonl")
    log_max_bytes: int = Field(64 * 1024 * 1024, ge=0)  # 0: never rotate
    log_backups: int = Field(5, ge=1)
    # While this file exists, infer answers 503 with its first line as the reason.
    cut_out_file: Path = Path("artifacts/serving/CUT_OUT")
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    max_rows: int = Field(100_000, ge=1)


class MonitoringSettings(_Strict):
    # monitoring.json and .html, the run history, the ground truth `feedback` received.
    # (`monitor` reads the inference log from serving.inference_log.)
    folder: Path = Path("artifacts/monitoring")


class SupplyChainSettings(_Strict):
    # package signs releases with this ed25519 key, made on first use; its public
    # half (.pub beside it) is what `verify` checks against. Keep it out of git.
    signing_key: Path = Path(".keys/release-signing.key")


class LineageSettings(_Strict):
    # Off: a lineage outage is one warning and the step goes on. On: it fails the step.
    required: bool = False
{%- if cookiecutter.experiment_tracking == "mlflow" %}


class TrackingSettings(_Strict):
    # Off: a tracking outage is one warning and the run goes on. On: it fails the run.
    required: bool = False
{%- endif %}


class Settings(_Strict):
    data: DataSettings = DataSettings()
    model: ModelSettings = ModelSettings()
    paths: PathSettings = PathSettings()
    lineage: LineageSettings = LineageSettings()
    supply_chain: SupplyChainSettings = SupplyChainSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    release: ReleaseSettings = ReleaseSettings()
    serving: ServingSettings = ServingSettings()
    sweep: SweepSettings = SweepSettings()
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    tracking: TrackingSettings = TrackingSettings()
{%- endif %}


def load_settings(path: Path | None = None) -> Settings:
    """Read params.yaml (or the file named by the params env var) into Settings."""
    return load_yaml_model(Path(path or os.environ.get(PARAMS_ENV) or DEFAULT_PARAMS), Settings, "--params")


def load_yaml_model(path: Path, model: type[ModelT], option: str) -> ModelT:
    """Parse a YAML file into a strict pydantic model; problems become one ProjectError."""
    try:
        raw = read_yaml(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run from the project root or pass {option}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProjectError(f"{path} is not readable YAML: {exc}") from exc
    return check_model(raw, model, str(path))


def check_model(raw: object, model: type[ModelT], where: str) -> ModelT:
    """Validate `raw` as a strict pydantic model; problems become one InvalidFile naming `where`."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [(tuple(err["loc"]), err["msg"] + _did_you_mean(model, err)) for err in exc.errors()]
        text = "; ".join(f"{'.'.join(str(p) for p in loc) or '(top level)'}: {msg}" for loc, msg in problems)
        raise InvalidFile(f"{where}: {text}", problems) from None


def _did_you_mean(model: type[BaseModel], error: dict) -> str:
    """For an unknown key, the closest known key at the same place (a typo's likely fix)."""
    if error["type"] != "extra_forbidden":
        return ""
    *parents, key = error["loc"]
    for part in parents:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = get_close_matches(str(key), list(model.model_fields), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
