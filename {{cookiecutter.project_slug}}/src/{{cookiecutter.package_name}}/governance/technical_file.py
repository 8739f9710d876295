"""The technical file: the evidence a reviewer of a regulated model asks for, in one page.

Its structure follows Annex IV of the EU AI Act (Regulation (EU) 2024/1689),
the technical documentation of a high-risk AI system, point by point. govern
assembles it from the run's evidence (model card, datasheet, metrics, gates,
provenance) and from the parts people write in governance/policy.yaml
(technical_file). It is not legal advice: a provider still decides whether the
Act applies and signs the declaration of conformity (point 8) outside this
pipeline. Per-group numbers stay in the governance report; this file shows the
disparities and their limits.
"""

from html import escape

from ..governance.placeholders import find_placeholder
from ..governance.policy import Policy
from ..governance.report import CSP, STYLE, bar_chart

SECTIONS = {
    "general_description": "1. General description of the system",
    "development": "2. Elements of the system and its development",
    "monitoring_and_control": "3. Monitoring, functioning and control",
    "performance_metrics": "4. Appropriateness of the performance metrics",
    "risk_management": "5. Risk management system",
    "change_log": "6. Changes through the lifecycle",
    "standards_applied": "7. Standards and specifications applied",
    "declaration_of_conformity": "8. EU declaration of conformity",
    "post_market_monitoring": "9. Post-market monitoring plan",
}
REGULATION = "EU AI Act (Regulation (EU) 2024/1689), Annex IV"


def build(policy: Policy, summary: dict, card: dict, sheet: dict, statement: dict) -> dict:
    """Every Annex IV point, from the run's evidence and the policy's written parts."""
    written = policy.technical_file
    build_def = statement.get("predicate", {}).get("buildDefinition", {})
    commits = [
        d["digest"]["gitCommit"]
        for d in build_def.get("resolvedDependencies", [])
        if "gitCommit" in d.get("digest", {})
    ]
    gates = summary.get("gates", [])
    return {
        "regulation": REGULATION,
        "general_description": {
            "written": written.general_description,
            "intended_purpose": card["intended_use"].get("primary_uses", ""),
            "out_of_scope": card["intended_use"].get("out_of_scope", ""),
            "provider": card["model_details"].get("owners", []),
            "contact": card["model_details"].get("contact", ""),
            "model_sha256": summary.get("model_sha256"),
        },
        "development": {
            "design": {
                "algorithm": card["model_details"].get("algorithm"),
                "parameters": build_def.get("externalParameters", {}).get("model", {}),
                "inputs": sheet["preprocessing"]["measured"]["model_inputs"],
                "excluded_from_inputs": sheet["preprocessing"]["measured"]["excluded_from_inputs"],
            },
            "data": {
                "datasheet": "datasheet.md, beside this file",
                "rows": sheet["composition"]["measured"]["rows"],
                "source": sheet["collection"]["measured"]["source"],
                "sha256": sheet["composition"]["measured"]["sha256"],
            },
            "validation_and_testing": {
                "metrics": summary.get("metrics", {}),
                "gates_passed": sum(1 for gate in gates if gate["passed"]),
                "gates_failed": sum(1 for gate in gates if not gate["passed"]),
                "verdict": summary.get("verdict"),
            },
            "human_oversight": written.human_oversight,
        },
        "monitoring_and_control": {
            "limitations": card.get("caveats_and_recommendations", ""),
            "ethical_considerations": card.get("ethical_considerations", ""),
            "fairness": {
                attribute: result["disparities"] for attribute, result in summary.get("fairness", {}).items()
            },
        },
        "performance_metrics": {
            "policy_version": summary.get("policy_version"),
            "profile": summary.get("profile"),
            "gates": [
                {k: gate.get(k) for k in ("gate", "metric", "attribute", "value", "bound", "limit", "passed")}
                for gate in gates
            ],
        },
        "risk_management": {"written": written.risk_management},
        "change_log": {"written": written.change_log, "source_commits": commits},
        "standards_applied": {"written": written.standards_applied},
        "declaration_of_conformity": {
            "written": "Not produced by this pipeline: the provider draws it up and signs it."
        },
        "post_market_monitoring": {"written": written.monitoring_plan},
        "completeness": policy.datasheet.gaps() + written.gaps() + _card_gaps(card),
    }


def _card_gaps(card: dict) -> list[str]:
    """Placeholders in what this file quotes from the model card (the model card gate owns them)."""
    quoted = {"model_card.intended_use.primary_uses": card["intended_use"].get("primary_uses", "")}
    return [
        f"{field} holds the placeholder {found!r}"
        for field, text in quoted.items()
        if (found := find_placeholder(str(text)))
    ]


def _value(value: object) -> str:
    if isinstance(value, dict):
        return "".join(
            f"<dt>{escape(str(k).replace('_', ' '))}</dt><dd>{_value(v)}</dd>" for k, v in value.items()
        ).join(("<dl>", "</dl>"))
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, dict) for item in value):
            return "".join(f"<li>{_value(item)}</li>" for item in value).join(("<ul>", "</ul>"))
        return escape(", ".join(str(item) for item in value) or "none")
    if value is None or value == "":
        return "<em>Not provided.</em>"
    return escape(f"{value:g}" if isinstance(value, float) else str(value))


def _disparity_chart(attribute: str, disparities: dict) -> str:
    """Disparities of one attribute as inline SVG bars (values in 0..1)."""
    values = {k.replace("_", " "): v for k, v in disparities.items() if k != "smallest_group_size"}
    chart = bar_chart(f"disparities for {attribute}", values)
    return f"<figure>{chart}<figcaption>{escape(attribute)}</figcaption></figure>"


def render(technical_file: dict, title: str) -> str:
    """The technical file as one self-contained HTML page: no script, no network."""
    body = []
    for key, heading in SECTIONS.items():
        section = technical_file[key]
        body.append(f"<h2>{escape(heading)}</h2>{_value(section)}")
        if key == "monitoring_and_control":
            body += [_disparity_chart(a, d) for a, d in section["fairness"].items()]
    gaps = technical_file["completeness"]
    listed = "".join(f"<li>{escape(gap)}</li>" for gap in gaps)
    complete = f"<ul>{listed}</ul>" if gaps else "<p>Every required part is written.</p>"
    heading = f"Technical file: {title}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">{CSP}'
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(heading)}</h1>"
        f"<p>Structure: {escape(technical_file['regulation'])}.</p>"
        f"{''.join(body)}<h2>Completeness</h2>{complete}"
        "</body></html>\n"
    )
