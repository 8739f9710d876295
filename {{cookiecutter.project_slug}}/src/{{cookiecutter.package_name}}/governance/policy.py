"""governance/policy.yaml as one strict, frozen object."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..settings import DataSettings, load_yaml_model
from .placeholders import find_placeholder

DEFAULT_POLICY = Path("governance/policy.yaml")

# What evaluate writes to metrics.json, and what governance/fairness.py computes.
PerformanceMetric = Literal["accuracy", "roc_auc", "f1", "precision", "recall"]
FairnessMetric = Literal[
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "disparate_impact_ratio",
    "smallest_group_size",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRule(_Strict):
    dtype: Literal["int", "float", "str"]
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = Field(None, min_length=1)
    nullable: bool = False

    @model_validator(mode="after")
    def _range_is_ordered(self) -> "ColumnRule":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class DataPolicy(_Strict):
    min_rows: int = Field(1, ge=1)
    columns: dict[str, ColumnRule]


class Bound(_Strict):
    """A gate's limit: the value must be >= min and/or <= max."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_a_limit(self) -> "Bound":
        if self.min is None and self.max is None:
            raise ValueError("a gate needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


Gates = dict[FairnessMetric, Bound | None]


class FairnessPolicy(_Strict):
    """Gates checked for every sensitive attribute named in params.yaml (data.sensitive_features).

    `gates` changes the profile's defaults for every attribute; `attributes`
    changes them for one (a metric set to null drops that gate).
    """

    gates: Gates = {}
    attributes: dict[str, Gates] = {}


CardField = Literal[
    "model_details.name",
    "model_details.description",
    "model_details.owners",
    "model_details.contact",
    "model_details.license",
    "intended_use.primary_uses",
    "intended_use.primary_users",
    "intended_use.out_of_scope",
    "factors.relevant",
    "ethical_considerations",
    "caveats_and_recommendations",
]


class ModelDetails(_Strict):
    name: str = ""
    description: str = ""
    owners: tuple[str, ...] = ()
    contact: str = ""
    license: str = ""


class IntendedUse(_Strict):
    primary_uses: str = ""
    primary_users: str = ""
    out_of_scope: str = ""


class Factors(_Strict):
    relevant: str = ""


# Marks text the template wrote for its sample; a card still holding it fails
# the model card gate once the data is your own (a warning under minimal).
TEMPLATE_TEXT = "[template]"


class ModelCardPolicy(_Strict):
    """The model card sections people write, and which fields must not be empty."""

    required: tuple[CardField, ...] | None = None  # None: the profile's list
    model_details: ModelDetails = ModelDetails()
    intended_use: IntendedUse = IntendedUse()
    factors: Factors = Factors()
    ethical_considerations: str = ""
    caveats_and_recommendations: str = ""

    def _text(self, field: str) -> str:
        value: object = self
        for part in field.split("."):
            value = getattr(value, part)
        return value if isinstance(value, str) else " ".join(v for v in value if v.strip())  # type: ignore[union-attr]

    def missing(self, required: tuple[str, ...]) -> list[str]:
        """The required fields that are empty."""
        return [field for field in required if not self._text(field).strip()]

    def template_text(self) -> list[str]:
        """The fields still holding the template's sample text."""
        return [field for field in CardField.__args__ if TEMPLATE_TEXT in self._text(field)]  # type: ignore[attr-defined]


# Fairness metrics a new model may not worsen beyond a limit (smaller is fairer,
# except the disparate impact ratio, where larger is fairer).
RegressionFairnessMetric = Literal[
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "disparate_impact_ratio",
]


class RegressionPolicy(_Strict):
    """The champion/challenger gate: how much worse than the model in service a candidate may be."""

    max_drop: dict[PerformanceMetric, float] = {}
    max_fairness_widening: dict[RegressionFairnessMetric, float] = {}

    @model_validator(mode="after")
    def _non_negative(self) -> "RegressionPolicy":
        for name, value in {**self.max_drop, **self.max_fairness_widening}.items():
            if value < 0:
                raise ValueError(f"{name}: a limit on how much worse a model may be cannot be negative")
        return self


class ProvenancePolicy(_Strict):
    required: bool = True
    # Fail when the statement cannot name the git commit the model was built from.
    source_commit_required: bool = False


class LicencePolicy(_Strict):
    """Which licences the environment's SBOM may contain (SPDX ids, or classifier names)."""

    allowed: tuple[str, ...] = ()
    # Distributions reviewed by hand and accepted whatever their licence says (name: why).
    exceptions: dict[str, str] = {}
    # A distribution that declares no licence at all: accepted, or a failed gate.
    allow_unknown: bool = True


Profile = Literal["standard", "strict", "minimal"]


class ProfileDefaults(_Strict):
    performance: dict[PerformanceMetric, Bound]
    fairness: dict[FairnessMetric, Bound]
    model_card_required: tuple[CardField, ...]
    template_text: Literal["fail", "warn"]


def _bounds(**limits: tuple[float | None, float | None]) -> dict:
    return {name: Bound(min=low, max=high) for name, (low, high) in limits.items()}


# What a profile means. standard follows the MLOps SIG's trusted-AI sample
# (fairness differences within 0.1, disparate impact of at least 0.8); strict
# tightens parity and asks for every model card section; minimal only stops
# gross failures. policy.yaml changes any of these limits; the report says
# which limits came from the profile and which from policy.yaml.
PROFILES: dict[str, ProfileDefaults] = {
    "standard": ProfileDefaults(
        performance=_bounds(roc_auc=(0.70, None), accuracy=(0.65, None)),
        fairness=_bounds(
            demographic_parity_difference=(None, 0.10),
            equalized_odds_difference=(None, 0.10),
            equal_opportunity_difference=(None, 0.10),
            disparate_impact_ratio=(0.80, None),
            smallest_group_size=(100, None),
        ),
        model_card_required=(
            "model_details.owners",
            "intended_use.primary_uses",
            "intended_use.out_of_scope",
            "ethical_considerations",
            "caveats_and_recommendations",
        ),
        template_text="fail",
    ),
    "strict": ProfileDefaults(
        performance=_bounds(roc_auc=(0.75, None), accuracy=(0.70, None)),
        fairness=_bounds(
            demographic_parity_difference=(None, 0.06),
            equalized_odds_difference=(None, 0.10),
            equal_opportunity_difference=(None, 0.10),
            disparate_impact_ratio=(0.80, None),
            smallest_group_size=(300, None),
        ),
        model_card_required=(
            "model_details.owners",
            "model_details.contact",
            "intended_use.primary_uses",
            "intended_use.primary_users",
            "intended_use.out_of_scope",
            "factors.relevant",
            "ethical_considerations",
            "caveats_and_recommendations",
        ),
        template_text="fail",
    ),
    "minimal": ProfileDefaults(
        performance=_bounds(roc_auc=(0.60, None)),
        fairness=_bounds(
            demographic_parity_difference=(None, 0.20),
            equalized_odds_difference=(None, 0.20),
            smallest_group_size=(30, None),
        ),
        model_card_required=("model_details.owners", "intended_use.primary_uses"),
        template_text="warn",
    ),
}


class Limit(_Strict):
    """A limit in force, and where it came from: the profile or policy.yaml."""

    bound: Bound
    source: str


DatasheetField = Literal[
    "motivation", "composition", "collection", "preprocessing", "uses", "distribution", "maintenance"
]
TechnicalFileField = Literal[
    "general_description",
    "human_oversight",
    "risk_management",
    "monitoring_plan",
    "change_log",
    "standards_applied",
]


def _written_gaps(section: str, fields: tuple[str, ...], written: BaseModel) -> list[str]:
    """Required written fields that are empty or still hold a placeholder."""
    gaps = []
    for field in fields:
        text = str(getattr(written, field)).strip()
        if not text:
            gaps.append(f"{section}.{field} is empty")
        elif found := find_placeholder(text):
            gaps.append(f"{section}.{field} holds the placeholder {found!r}")
    return gaps


class DatasheetPolicy(_Strict):
    """The people-written part of the datasheet (Gebru et al., "Datasheets for Datasets")."""

    required: tuple[DatasheetField, ...] = ()
    motivation: str = ""
    composition: str = ""
    collection: str = ""
    preprocessing: str = ""
    uses: str = ""
    distribution: str = ""
    maintenance: str = ""

    def gaps(self) -> list[str]:
        return _written_gaps("datasheet", self.required, self)


class TechnicalFilePolicy(_Strict):
    """The people-written part of the technical file (structure of the EU AI Act, Annex IV)."""

    required: tuple[TechnicalFileField, ...] = ()
    general_description: str = ""
    human_oversight: str = ""
    risk_management: str = ""
    monitoring_plan: str = ""
    change_log: str = ""
    standards_applied: str = ""

    def gaps(self) -> list[str]:
        return _written_gaps("technical_file", self.required, self)


RobustnessMetric = Literal["noise_flip_rate", "unseen_category_flip_rate"]


class RobustnessPolicy(_Strict):
    """Perturbation test of the held-out decisions (governance/robustness.py) and its gates."""

    noise_scale: float = Field(0.05, gt=0.0, le=1.0)  # noise std as a share of each column's std
    gates: dict[RobustnessMetric, Bound] = {}


class SensitiveDataPolicy(_Strict):
    """Where the sensitive attributes (params.yaml data.sensitive_features) may appear."""

    # False: only govern sees them (joined back from the raw data); predictions.csv,
    # the model card, lineage and tracked artifacts carry no value of them.
    share_in_artifacts: bool = False


class DriftPolicy(_Strict):
    """A column drifts when its PSI is above `psi.max` and its two-sample test's p-value is below `alpha`."""

    psi: Bound = Bound(max=0.2)
    alpha: float = Field(0.01, gt=0.0, lt=1.0)


class MonitoringPolicy(_Strict):
    """What `monitor` checks on live data, and what the retrain loop may do."""

    min_rows: int = Field(100, ge=1)  # fewer rows: verdict "insufficient_data", no gate judged
    features: DriftPolicy = DriftPolicy()
    prediction: DriftPolicy = DriftPolicy()
    label: DriftPolicy = DriftPolicy(psi=Bound(max=0.1))
    performance: dict[PerformanceMetric, Bound] = {}
    fairness: bool = True  # the fairness gates above, on labelled live data
    min_labelled_rows: int = Field(100, ge=1)
    retrain_on: tuple[
        Literal["feature_drift", "prediction_drift", "label_drift", "performance", "fairness"], ...
    ] = (
        "feature_drift",
        "prediction_drift",
        "label_drift",
        "performance",
    )
    # The feedback-loop guard: training on data derived from this model's own
    # inference log is refused unless this is true.
    allow_training_on_own_predictions: bool = False


class InferenceLogPolicy(_Strict):
    """What the serving log may keep about the people a prediction is about."""

    log_sensitive_features: bool = False


class PortabilityPolicy(_Strict):
    """The ONNX copy of every release (model.onnx) and how closely onnxruntime must agree with sklearn."""

    # Largest gap allowed between the two positive-class probabilities on any held-out row.
    onnx_parity_max_abs_diff: float = Field(1.0e-4, ge=0.0)


class Policy(_Strict):
    version: str
    profile: Profile
    # Limits that change the profile's (a metric set to null drops its gate).
    performance: dict[PerformanceMetric, Bound | None] = {}
    fairness: FairnessPolicy = FairnessPolicy()
    model_card: ModelCardPolicy = ModelCardPolicy()
    provenance: ProvenancePolicy = ProvenancePolicy()
    licences: LicencePolicy | None = None  # no allowlist: no licence gate
    sensitive_data: SensitiveDataPolicy = SensitiveDataPolicy()
    robustness: RobustnessPolicy = RobustnessPolicy()
    datasheet: DatasheetPolicy = DatasheetPolicy()
    technical_file: TechnicalFilePolicy = TechnicalFilePolicy()
    regression: RegressionPolicy = RegressionPolicy()
    inference_log: InferenceLogPolicy = InferenceLogPolicy()
    data: DataPolicy
    monitoring: MonitoringPolicy = MonitoringPolicy()
    portability: PortabilityPolicy = PortabilityPolicy()

    @property
    def defaults(self) -> ProfileDefaults:
        return PROFILES[self.profile]

    def performance_limits(self) -> dict[str, Limit]:
        """Each performance gate in force: the profile's, changed by policy.yaml."""
        return _limits(self.defaults.performance, self.profile, [("performance", self.performance)])

    def fairness_limits(self, attribute: str) -> dict[str, Limit]:
        """Each fairness gate in force for `attribute`: profile, then fairness.gates, then its own."""
        return _limits(
            self.defaults.fairness,
            self.profile,
            [
                ("fairness.gates", self.fairness.gates),
                (f"fairness.attributes.{attribute}", self.fairness.attributes.get(attribute, {})),
            ],
        )

    def required_card_fields(self) -> tuple[str, ...]:
        required = self.model_card.required
        return self.defaults.model_card_required if required is None else required


def _limits(defaults: dict, profile: str, layers: list[tuple[str, dict]]) -> dict[str, Limit]:
    limits = {metric: Limit(bound=bound, source=f"profile {profile}") for metric, bound in defaults.items()}
    for where, changes in layers:
        for metric, bound in changes.items():
            if bound is None:
                limits.pop(metric, None)
            else:
                limits[metric] = Limit(bound=bound, source=f"policy.yaml {where}")
    return limits


def mismatches(policy: Policy, data: DataSettings) -> list[str]:
    """Where params.yaml's data section and the policy disagree, one sentence each."""
    columns = policy.data.columns
    found = []
    roles = [("data.target", [data.target]), ("data.sensitive_features", data.sensitive_features)]
    for role, names in [*roles, ("data.exclude", data.exclude)]:
        for name in names:
            if name not in columns:
                found.append(
                    f"params.yaml {role} names {name}, which is not a column of the policy's data schema"
                )
    for attribute in policy.fairness.attributes:
        if attribute not in data.sensitive_features:
            found.append(
                f"policy fairness.attributes names {attribute}, "
                "which is not in params.yaml data.sensitive_features"
            )
    target = columns.get(data.target)
    if data.positive_label is not None and target is not None and target.allowed is not None:
        if str(data.positive_label) not in {str(value) for value in target.allowed}:
            found.append(
                f"params.yaml data.positive_label {data.positive_label!r} is not one of the values "
                f"the policy allows for {data.target}"
            )
    return found


def load_policy(path: Path | None = None) -> Policy:
    """Read and check the governance policy file."""
    return load_yaml_model(Path(path or DEFAULT_POLICY), Policy, "--policy")
