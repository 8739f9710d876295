"""init-data: adopt a table of your own in one command.

Reads a CSV or Parquet file (a path or a URL, as data.source accepts), infers
the data schema (type, range, allowed values up to a cardinality limit,
nullability, a row count floor) and writes it into governance/policy.yaml's
`data:` section and params.yaml's `data:` lines, keeping every comment and
every other setting (round-trip YAML). Both files are checked by their own
loaders before either is replaced, so a mistake leaves them as they were.
"""

import io
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from .errors import ProjectError
from .files import atomic_path
from .governance.fairness import FILL_BLANKS
from .governance.policy import Policy, mismatches
from .settings import DataSettings, Settings, reads_back_as_text

MAX_CATEGORIES = 20  # more distinct text values than this: no allowed list
ID_NAMES = ("id", "uuid", "key", "number", "no")


@dataclass
class Adoption:
    """What init-data decided, and what a person should still look at."""

    source: str
    rows: int
    columns: dict[str, dict]
    roles: dict[str, str]
    review: list[str] = field(default_factory=list)


def read_table(source: str) -> pd.DataFrame:
    """The table at `source` (CSV or Parquet; a path or a URL), or one clear error."""
    from .steps.ingest import fetch

    parquet = urlsplit(source).path.lower().endswith(".parquet")
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / ("table.parquet" if parquet else "table.csv")
        fetch(source, local)
        try:
            return pd.read_parquet(local) if parquet else pd.read_csv(local)
        except ImportError:
            raise ProjectError(f"{source}: install the `parquet` extra to read Parquet") from None
        except pd.errors.EmptyDataError:
            raise ProjectError(f"{source} is empty") from None
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ProjectError(
                f"{source} is not a readable {'Parquet' if parquet else 'CSV'} file: {first}"
            ) from None


def _plain(value: object) -> object:
    """A numpy scalar as the YAML-friendly Python value."""
    value = value.item() if hasattr(value, "item") else value
    return float(value) if isinstance(value, float) else value


def _rule(series: pd.Series, is_target: bool) -> dict:
    """The schema rule for one column, inferred from its values."""
    values = series.dropna()
    rule: dict = {}
    if series.dtype.kind in "iu":
        rule["dtype"] = "int"
    elif series.dtype.kind == "f":
        rule["dtype"] = "float"
    else:
        rule["dtype"] = "str"
    if rule["dtype"] != "str" and len(values):
        low, high = _plain(values.min()), _plain(values.max())
        if rule["dtype"] == "int":
            low, high = int(low), int(high)
        else:
            low, high = math.floor(low), math.ceil(high)
        if is_target and values.nunique() <= MAX_CATEGORIES:
            rule["allowed"] = sorted(int(v) for v in values.unique())
        else:
            rule["min"], rule["max"] = low, high
    elif rule["dtype"] == "str" and values.nunique() <= MAX_CATEGORIES:
        rule["allowed"] = sorted(str(v) for v in values.unique())
    if series.isna().any():
        rule["nullable"] = True
    return rule


def infer(
    frame: pd.DataFrame,
    source: str,
    target: str,
    positive_label: str | None,
    sensitive: tuple[str, ...],
    exclude: tuple[str, ...],
    policy: Policy,
    test_size: float,
) -> Adoption:
    """The schema and settings for `frame`, with every problem in the arguments at once."""
    problems = []
    for option, names in (("--target", (target,)), ("--sensitive", sensitive), ("--exclude", exclude)):
        for name in names:
            if name not in frame.columns:
                problems.append(f"{option} {name} is not a column of {source}")
    both = set(exclude) & ({target} | set(sensitive))
    if both:
        problems.append(f"--exclude names {', '.join(sorted(both))}, already left out as target or sensitive")
    if target in frame.columns:
        labels = frame[target].dropna()
        values = {str(v) for v in labels.unique()}
        if frame[target].isna().any():
            problems.append(
                f"the target {target} has {int(frame[target].isna().sum())} empty value(s): drop those rows"
            )
        if positive_label is None and not values <= {"0", "1"}:
            shown = ", ".join(sorted(values)[:4])
            problems.append(
                f"the target {target} holds {shown}: pass --positive-label with the value meaning positive"
            )
        elif positive_label is not None and str(positive_label) not in values:
            problems.append(
                f"--positive-label {positive_label} is not a value of {target} "
                f"({', '.join(sorted(values)[:6])})"
            )
    for attribute in sensitive:
        blanks = int(frame[attribute].isna().sum()) if attribute in frame.columns else 0
        if blanks:
            problems.append(f"the sensitive attribute {attribute} has {blanks} empty value(s): {FILL_BLANKS}")
    if len(frame) < 50:
        problems.append(f"{source} has {len(frame)} rows: at least 50 are needed to train and test")
    if problems:
        raise ProjectError("\n".join(problems))

    columns = {name: _rule(frame[name], name == target) for name in frame.columns}
    for name in exclude:  # an ID's range says nothing about the next file's IDs
        columns[name] = {key: value for key, value in columns[name].items() if key in ("dtype", "nullable")}
    roles = {name: "feature" for name in frame.columns}
    roles[target] = "target"
    roles.update({name: "sensitive" for name in sensitive})
    roles.update({name: "excluded" for name in exclude})
    adoption = Adoption(source, len(frame), columns, roles)
    review = adoption.review
    for name in frame.columns:
        series = frame[name]
        distinct = series.nunique(dropna=True)
        looks_like_id = distinct == len(frame) and (
            series.dtype.kind in "iuO"
            or any(part in name.lower().replace("-", "_").split("_") for part in ID_NAMES)
        )
        if roles[name] == "feature" and looks_like_id:
            review.append(
                f"{name}: every value is different; if it is an ID, leave it out with --exclude {name}"
            )
        elif roles[name] == "feature" and columns[name]["dtype"] == "str" and "allowed" not in columns[name]:
            review.append(
                f"{name}: {distinct} distinct text values, more than {MAX_CATEGORIES}: no allowed list; "
                "free text or an ID is better left out (--exclude)"
            )
    classes = frame[target].nunique()
    if classes > 2:
        review.append(
            f"{target}: {classes} distinct values; "
            f"the model predicts {positive_label!r} against all the others"
        )
    for attribute in sensitive:
        limit = policy.fairness_limits(attribute).get("smallest_group_size")
        if limit is None or limit.bound.min is None:
            continue
        counts = frame[attribute].astype(str).value_counts()
        small = counts[counts * test_size < limit.bound.min]
        if len(small):
            groups = ", ".join(f"{group} ({count} rows)" for group, count in small.items())
            review.append(
                f"{attribute}: group(s) {groups} will hold fewer than {limit.bound.min:g} test rows, the "
                f"smallest_group_size gate of profile {policy.profile}: merge groups, get more data, or set "
                f"fairness.attributes.{attribute} in governance/policy.yaml"
            )
    review.append(
        "ranges and allowed values are the ones seen in this file: widen them in governance/policy.yaml "
        "for the data you expect"
    )
    if policy.model_card.template_text():
        review.append(
            "governance/policy.yaml model_card: the text marked [template] describes the sample; "
            "the model card gate fails on your data until you rewrite it"
        )
    return adoption


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _kept(value: object) -> object:
    """`value`, quoted where the project's reader would take it for something else:
    ruamel writes YAML 1.2, where yes and no are text; the project reads YAML 1.1."""
    if isinstance(value, str) and not reads_back_as_text(value):
        return SingleQuotedScalarString(value)
    return value


def _flow(items: list) -> CommentedSeq:
    seq = CommentedSeq(_kept(item) for item in items)
    seq.fa.set_flow_style()
    return seq


def _load(yaml: YAML, path: Path) -> CommentedMap:
    try:
        return yaml.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run init-data from the project root") from None
    except Exception as exc:  # ruamel raises many types for a broken file
        raise ProjectError(f"{path} is not readable YAML: {type(exc).__name__}") from None


def _dump(yaml: YAML, document: CommentedMap) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def write(adoption: Adoption, params_path: Path, policy_path: Path, settings: DataSettings) -> None:
    """Put the adoption into params.yaml and policy.yaml, both or neither."""
    yaml = _yaml()
    params = _load(yaml, params_path)
    policy = _load(yaml, policy_path)
    data = params.setdefault("data", CommentedMap())
    data["source"] = _kept(settings.source)
    data["target"] = _kept(settings.target)
    data["positive_label"] = _kept(settings.positive_label)
    data["sensitive_features"] = _flow(list(settings.sensitive_features))
    data["exclude"] = _flow(list(settings.exclude))
    columns = CommentedMap()
    for name, rule in adoption.columns.items():
        entry = CommentedMap(rule)
        if "allowed" in entry:
            entry["allowed"] = _flow(entry["allowed"])
        entry.fa.set_flow_style()
        columns[_kept(name)] = entry
    schema = policy.setdefault("data", CommentedMap())
    schema["min_rows"] = max(1, adoption.rows // 2)
    schema["columns"] = columns
    params_text, policy_text = _dump(yaml, params), _dump(yaml, policy)
    # Check both with the project's own loaders before replacing either file.
    from .settings import load_yaml_model

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "params.yaml").write_text(params_text, encoding="utf-8")
        (Path(folder) / "policy.yaml").write_text(policy_text, encoding="utf-8")
        checked = load_yaml_model(Path(folder) / "params.yaml", Settings, "--params")
        checked_policy = load_yaml_model(Path(folder) / "policy.yaml", Policy, "--policy")
    problems = mismatches(checked_policy, checked.data)
    if problems:
        raise ProjectError("\n".join(problems))
    with atomic_path(params_path) as params_tmp, atomic_path(policy_path) as policy_tmp:
        params_tmp.write_text(params_text, encoding="utf-8")
        policy_tmp.write_text(policy_text, encoding="utf-8")


def adopt(
    source: str,
    target: str,
    positive_label: str | None,
    sensitive: tuple[str, ...],
    exclude: tuple[str, ...],
    settings: Settings,
    policy: Policy,
    params_path: Path,
    policy_path: Path,
) -> Adoption:
    """Infer the schema of `source` and write it, with the settings, into the two files."""
    frame = read_table(source)
    if positive_label is not None and target in frame and frame[target].dtype.kind in "iuf":
        try:
            positive: str | int | None = int(positive_label)
        except ValueError:
            positive = positive_label
    else:
        positive = positive_label
    adoption = infer(
        frame, source, target, positive_label, sensitive, exclude, policy, settings.data.test_size
    )
    data = settings.data.model_copy(
        update={
            "source": source,
            "target": target,
            "positive_label": positive,
            "sensitive_features": sensitive,
            "exclude": exclude,
        }
    )
    write(adoption, params_path, policy_path, data)
    return adoption
