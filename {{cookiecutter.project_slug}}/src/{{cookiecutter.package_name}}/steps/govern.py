"""Govern: check the policy's gates and write the evidence a reviewer reads.

Writes the provenance statement, the model card (Markdown and JSON), and the
governance report (JSON and HTML), all before deciding; a failed gate then
raises GateFailed, one line per failed gate, so the pipeline stops before package.
"""

import json
from pathlib import Path
from typing import TypedDict

from ..errors import GateFailed, ProjectError
from ..features import feature_columns, labels
from ..files import atomic_path, read_json, write_json
from ..governance import (
    datasheet,
    explain,
    fairness,
    gates,
    model_card,
    provenance,
    report,
    robustness,
    sensitive,
    technical_file,
)
from ..governance.policy import Policy
from ..release import champion as champion_version
from ..release import load_release
from ..settings import DataSettings, ModelSettings, PathSettings
from ..steps.evaluate import THRESHOLD, load_model, score_metrics
from ..supply_chain import attestation
from ..supply_chain import sbom as sboms
from ..tables import read_csv, split


class GovernSummary(TypedDict):
    """governance.json; lineage's governance facet and tracking read verdict, gates and the rest."""

    verdict: str
    policy_version: str
    profile: str
    project: str
    model_sha256: str
    gates: list[dict]
    failed: list[str]
    warnings: list[str]
    metrics: dict[str, float]
    fairness: dict[str, dict]
    reports: dict[str, str]


def _data_facts(rows, data: DataSettings, raw: Path, raw_sha256: str, share: bool) -> dict:
    """What a model card says about a data split: size, label balance, groups if shareable."""
    facts = {
        "source": data.source,
        "file": raw.as_posix(),
        "sha256": raw_sha256,
        "rows": len(rows),
        "positive_rate": round(float(labels(rows, data).mean()), 6),
        "groups": {
            attribute: {str(k): int(v) for k, v in rows[attribute].value_counts().sort_index().items()}
            for attribute in data.sensitive_features
            if attribute in rows
        },
    }
    if not share:  # the sizes per group are in the governance report
        facts["groups"] = {attribute: "see the governance report" for attribute in facts["groups"]}
    return facts


def measure_fairness(predictions: Path, raw, data: DataSettings) -> dict[str, dict]:
    """Fairness per sensitive attribute of evaluate's predictions, the attributes joined back from `raw`."""
    # the sensitive attributes come back from the raw data here, for fairness only
    rows = sensitive.attach(read_csv(predictions), raw, data.sensitive_features)
    return fairness.assess(rows, data.sensitive_features)


def model_card_json(markdown: Path) -> Path:
    """The JSON model card lives beside the Markdown one."""
    return Path(markdown).with_suffix(".json")


def documents(markdown: Path) -> dict[str, Path]:
    """The datasheet and the technical file, written beside the model card."""
    folder = Path(markdown).parent
    return {
        "datasheet": folder / "datasheet.md",
        "datasheet_json": folder / "datasheet.json",
        "technical_file": folder / "technical_file.html",
        "technical_file_json": folder / "technical_file.json",
    }


def check_documentation(policy: Policy) -> list[str]:
    """What the written parts of the datasheet and technical file lack; an error under the strict profile."""
    gaps = policy.datasheet.gaps() + policy.technical_file.gaps()
    if gaps and policy.profile == "strict":
        raise ProjectError(f"technical file incomplete (strict profile): {'; '.join(gaps)}")
    return gaps


def measure_champion(releases: Path, test_rows, data: DataSettings) -> dict | None:
    """The champion's metrics and fairness on the candidate's held-out rows; None if no champion.

    Both models are scored on the same rows, so the regression gate compares
    models, not data sets.
    """
    version = champion_version(releases)
    if version is None:
        return None
    release = load_release(Path(releases) / version)
    model = load_model(release.model)
    try:
        score = model.predict_proba(test_rows)[:, 1]
    except (KeyError, ValueError) as exc:
        raise ProjectError(
            f"champion {version} cannot score this data ({exc}): promote a newer one first"
        ) from exc
    truth = labels(test_rows, data)
    predictions = test_rows[list(data.sensitive_features)].assign(
        y_true=truth.to_numpy(), y_pred=(score >= THRESHOLD).astype("int64"), y_score=score
    )
    return {
        "version": version,
        "model_sha256": release.manifest.get("model_sha256"),
        "metrics": score_metrics(truth, score),
        "fairness": fairness.assess(predictions, data.sensitive_features),
    }


def regression_against(releases: Path, paths: PathSettings, data: DataSettings, policy: Policy) -> list[str]:
    """The regression gate of govern's candidate against the champion of another releases folder.

    For a model store govern could not see (the cluster's): the candidate's
    metrics from its governance report, the champion scored on the same
    held-out rows. Returns one line per failed gate.
    """
    report = read_json(paths.governance_report)
    _, test_rows = split(read_csv(paths.raw_data), data)
    champion = measure_champion(releases, test_rows, data)
    results = gates.regression_gates(report.get("metrics", {}), report.get("fairness", {}), champion, policy)
    return [gates.describe(result) for result in results if not result["passed"]]


def govern(
    paths: PathSettings,
    data: DataSettings,
    model: ModelSettings,
    policy: Policy,
    orchestrator: str = "LOCAL",
    pipeline_run: str | None = None,
) -> GovernSummary:
    """Check every gate; write provenance, model card and report; raise GateFailed on a failure.

    `orchestrator` and `pipeline_run` (its run id) name who built the model, for the provenance.
    """
    started = provenance.pipeline_started(pipeline_run, paths.raw_data)
    environment = attestation.environment_sbom()
    gaps = check_documentation(policy)  # before anything is written
    metrics = read_json(paths.metrics)
    validation = read_json(paths.validation_report)
    frame = read_csv(paths.raw_data)
    model_sha256 = provenance.sha256_file(paths.model)
    raw_sha256 = provenance.sha256_file(paths.raw_data)
    by_attribute = measure_fairness(paths.predictions, frame, data)
    share = policy.sensitive_data.share_in_artifacts
    train_rows, test_rows = split(frame, data)
    features = feature_columns(frame, data).columns
    fitted = load_model(paths.model)
    importance = explain.importance(fitted, test_rows, labels(test_rows, data), features, data.seed)
    flips = robustness.flip_rates(fitted, test_rows, features, policy.robustness.noise_scale, data.seed)

    statement = provenance.statement(
        paths.model,
        model_sha256,
        data_files=[paths.raw_data],
        byproducts=[paths.validation_report, paths.metrics, paths.predictions],
        parameters={
            "data": data.model_dump(mode="json"),
            "model": model.model_dump(mode="json"),
            "policy": {"version": policy.version, "profile": policy.profile},
        },
        started=started,
        sbom_sha256=sboms.sha256(environment),
        orchestrator=orchestrator,
        pipeline_run=pipeline_run,
    )
    write_json(paths.provenance, statement)

    champion = measure_champion(paths.release, test_rows, data)

    results = (
        gates.data_gate(validation)
        + gates.performance_gates(metrics, policy)
        + gates.fairness_gates(by_attribute, policy)
        + gates.robustness_gates(flips, policy)
        + gates.regression_gates(metrics, by_attribute, champion, policy)
        + gates.model_card_gate(policy, data.source)
        + gates.provenance_gate(read_json(paths.provenance), model_sha256, policy)
        + gates.licence_gate(environment, policy)
    )
    verdict = gates.verdict(results)
    card = model_card.build(
        policy.model_card,
        model={
            "algorithm": model.algorithm,
            "file": paths.model.as_posix(),
            "sha256": model_sha256,
            "date": started,
            "policy_version": policy.version,
        },
        metrics=metrics,
        evaluation_data=_data_facts(test_rows, data, paths.raw_data, raw_sha256, share) | {"split": "test"},
        training_data=_data_facts(train_rows, data, paths.raw_data, raw_sha256, share) | {"split": "train"},
        fairness=sensitive.for_shared_card(by_attribute, share),
        verdict=verdict,
    )
    card["quantitative_analyses"] |= {
        "feature_importance": importance,
        "robustness": flips,
        "training_footprint": read_json(paths.footprint),
    }
    with atomic_path(model_card_json(paths.model_card)) as tmp:  # in section order, not sorted
        tmp.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    with atomic_path(paths.model_card) as tmp:
        tmp.write_text(model_card.to_markdown(card), encoding="utf-8")

    summary: GovernSummary = {
        "verdict": verdict,
        "policy_version": policy.version,
        "profile": policy.profile,
        "project": policy.model_card.model_details.name,
        "model_sha256": model_sha256,
        "gates": results,
        "failed": [gates.describe(result) for result in results if not result["passed"]],
        "warnings": [gates.describe(result, "warning") for result in results if result.get("warning")],
        "metrics": {k: v for k, v in metrics.items() if k != "test_rows"},
        "fairness": by_attribute,
        "feature_importance": importance,
        "robustness": flips,
        "champion": champion,
        "reports": {
            "governance_report": paths.governance_report.as_posix(),
            "governance_html": paths.governance_html.as_posix(),
            "model_card": paths.model_card.as_posix(),
            "model_card_json": model_card_json(paths.model_card).as_posix(),
            "provenance": paths.provenance.as_posix(),
        },
    }
    docs = documents(paths.model_card)
    summary["reports"] |= {name: path.as_posix() for name, path in docs.items()}
    summary["documentation_gaps"] = gaps
    sheet = datasheet.build(
        policy.datasheet,
        validation,
        data={
            "source": data.source,
            "file": paths.raw_data.as_posix(),
            "sha256": raw_sha256,
            "target": data.target,
            "positive_rate": round(float(labels(frame, data).mean()), 6),
            "sensitive_attributes": data.sensitive_features,
        },
        model={"features": features, "sha256": model_sha256},
        card_details=card["model_details"],
    )
    title = policy.model_card.model_details.name or "Model"
    with atomic_path(docs["datasheet_json"]) as tmp:
        tmp.write_text(json.dumps(sheet, indent=2) + "\n", encoding="utf-8")
    with atomic_path(docs["datasheet"]) as tmp:
        tmp.write_text(datasheet.to_markdown(sheet, title), encoding="utf-8")
    file = technical_file.build(policy, summary, card, sheet, statement)
    with atomic_path(docs["technical_file_json"]) as tmp:
        tmp.write_text(json.dumps(file, indent=2) + "\n", encoding="utf-8")
    with atomic_path(docs["technical_file"]) as tmp:
        tmp.write_text(technical_file.render(file, title), encoding="utf-8")
    with atomic_path(paths.governance_html) as tmp:
        tmp.write_text(report.render(summary), encoding="utf-8")
    write_json(paths.governance_report, summary)
    if verdict != "pass":
        raise GateFailed("\n".join(summary["failed"]), summary)
    return summary
