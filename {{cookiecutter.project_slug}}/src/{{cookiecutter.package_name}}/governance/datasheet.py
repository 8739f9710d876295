"""The datasheet of the training data: Gebru et al.'s "Datasheets for Datasets" sections.

People write each section's account in governance/policy.yaml (datasheet);
govern adds what the pipeline knows: size, columns and types, label balance,
nulls, digest, source, validation and how the model prepares each column.
Values of the sensitive attributes never appear here: their per-group counts
are in the governance report.
"""

from ..governance.policy import DatasheetPolicy

SECTIONS = {
    "motivation": "Motivation",
    "composition": "Composition",
    "collection": "Collection process",
    "preprocessing": "Preprocessing, cleaning and labelling",
    "uses": "Uses",
    "distribution": "Distribution",
    "maintenance": "Maintenance",
}


def build(
    written: DatasheetPolicy,
    validation: dict,
    data: dict,
    model: dict,
    card_details: dict,
) -> dict:
    """Every section: the people-written account plus the facts the run measured.

    `data` holds source, file, sha256, target, positive_rate and sensitive
    attributes; `model` the feature columns and how they are prepared.
    """
    columns = validation.get("columns", {})
    facts = {
        "motivation": {},
        "composition": {
            "rows": validation.get("rows"),
            "columns": columns,
            "target": data["target"],
            "positive_rate": data["positive_rate"],
            "null_counts": {k: v for k, v in validation.get("null_counts", {}).items() if v},
            "sensitive_attributes": list(data["sensitive_attributes"]),
            "per_group_counts": "in the governance report",
            "file": data["file"],
            "sha256": data["sha256"],
        },
        "collection": {"source": data["source"]},
        "preprocessing": {
            "schema_valid": validation.get("valid"),
            "validation_failures": len(validation.get("failures", [])),
            "model_inputs": list(model["features"]),
            "excluded_from_inputs": [data["target"], *data["sensitive_attributes"]],
            "numeric_columns": "standardised",
            "categorical_columns": "one-hot encoded, unknown values ignored",
        },
        "uses": {"trained_model_sha256": model["sha256"]},
        "distribution": {"license": card_details.get("license", "")},
        "maintenance": {
            "owners": list(card_details.get("owners", [])),
            "contact": card_details.get("contact", ""),
        },
    }
    return {key: {"written": getattr(written, key), "measured": facts[key]} for key in SECTIONS} | {
        "completeness": written.gaps()
    }


def _text(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "none"
    return "n/a" if value is None else str(value).replace("\n", " ")


def to_markdown(sheet: dict, title: str) -> str:
    """The datasheet as Markdown: one heading per section, written text then measured facts."""
    out = [f"# Datasheet: {title}", ""]
    for key, heading in SECTIONS.items():
        section = sheet[key]
        out += [f"## {heading}", "", section["written"].strip() or "_Not provided._", ""]
        out += [
            f"- **{name.replace('_', ' ').capitalize()}**: {_text(value)}"
            for name, value in section["measured"].items()
        ]
        out.append("")
    gaps = sheet["completeness"]
    out += ["## Completeness", ""]
    out += [f"- {gap}" for gap in gaps] if gaps else ["Every required section is written."]
    return "\n".join(out).rstrip() + "\n"
