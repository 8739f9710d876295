"""The model card: Mitchell et al.'s sections, as JSON and as Markdown.

People write the descriptive sections in governance/policy.yaml (model_card);
govern fills in the measured ones (metrics, data, quantitative analyses).
"""

from ..governance.policy import ModelCardPolicy

SECTIONS = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "factors": "Factors",
    "metrics": "Metrics",
    "evaluation_data": "Evaluation data",
    "training_data": "Training data",
    "quantitative_analyses": "Quantitative analyses",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}


def build(
    written: ModelCardPolicy,
    model: dict,
    metrics: dict,
    evaluation_data: dict,
    training_data: dict,
    fairness: dict[str, dict],
    verdict: str,
) -> dict:
    """Every section of the card, written ones from the policy, measured ones from the run."""
    details = written.model_details.model_dump(mode="json") | model
    return {
        "model_details": details,
        "intended_use": written.intended_use.model_dump(mode="json"),
        "factors": written.factors.model_dump(mode="json") | {"evaluated": sorted(fairness)},
        "metrics": {
            "performance": {k: v for k, v in metrics.items() if k != "test_rows"},
            "decision_threshold": 0.5,
            "fairness": [
                "demographic_parity_difference",
                "equalized_odds_difference",
                "equal_opportunity_difference",
                "disparate_impact_ratio",
            ],
        },
        "evaluation_data": evaluation_data,
        "training_data": training_data,
        "quantitative_analyses": {
            "governance_verdict": verdict,
            "by_attribute": {
                attribute: {"by_group": result["by_group"], "disparities": result["disparities"]}
                for attribute, result in fairness.items()
            },
        },
        "ethical_considerations": written.ethical_considerations,
        "caveats_and_recommendations": written.caveats_and_recommendations,
    }


def _cell(value: object) -> str:
    text = "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _field(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _value(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_value(inner)}" for key, inner in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_value(inner) for inner in value)
    return _cell(value)


def _lines(value: object) -> list[str]:
    if isinstance(value, dict):
        return [f"- **{_field(key)}**: {_value(inner)}" for key, inner in value.items()]
    return [_value(value) if value else "_Not provided._"]


def to_markdown(card: dict) -> str:
    """The card as Markdown, one heading per section, tables for group metrics."""
    name = card["model_details"].get("name") or "Model"
    out = [f"# Model card: {_cell(name)}", ""]
    for key, title in SECTIONS.items():
        out += [f"## {title}", ""]
        section = card[key]
        if key == "metrics":
            out += _lines(section["performance"])
            out += [
                f"- **Decision threshold**: {section['decision_threshold']}",
                f"- **Fairness**: {', '.join(section['fairness'])}",
            ]
        elif key == "quantitative_analyses":
            out += [f"Governance verdict: **{section['governance_verdict']}**", ""]
            if importance := section.get("feature_importance"):
                out += [
                    f"### Feature importance ({importance['method']}, drop in {importance['metric']})",
                    "",
                    "| input | mean | std |",
                    "|---|---|---|",
                ]
                out += [
                    f"| {_cell(name)} | {_cell(row['mean'])} | {_cell(row['std'])} |"
                    for name, row in importance["features"].items()
                ]
                out.append("")
            if flips := section.get("robustness"):
                out += ["### Robustness (share of test decisions that flip)", ""]
                out += [
                    f"- **{_field(key)}**: {_cell(flips[key])}"
                    for key in ("noise_scale", "noise_flip_rate", "unseen_category_flip_rate")
                ]
                out.append("")
            if cost := section.get("training_footprint"):
                out += ["### Training footprint (estimated energy, not metered)", ""]
                out += [
                    f"- **{_field(key)}**: {_cell(cost[key])}"
                    for key in ("cpu_seconds", "wall_seconds", "watts_per_core", "energy_wh", "method")
                ]
                out.append("")
            for attribute, result in section["by_attribute"].items():
                groups = result["by_group"]
                if not groups:  # kept out of shareable documents by the policy (sensitive_data)
                    note = "Per-group metrics: in the governance report."
                    out += [f"### By {_cell(attribute)}", "", note, ""]
                    out += _lines(result["disparities"]) + [""]
                    continue
                metrics = list(next(iter(groups.values()), {}))
                out += [
                    f"### By {_cell(attribute)}",
                    "",
                    "| group | " + " | ".join(metrics) + " |",
                    "|---" * (len(metrics) + 1) + "|",
                ]
                out += [
                    "| " + " | ".join([_cell(group)] + [_cell(row[m]) for m in metrics]) + " |"
                    for group, row in groups.items()
                ]
                out += [""] + _lines(result["disparities"])
                out.append("")
        else:
            out += _lines(section)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
