"""Govern: check the policy's gates and write the evidence a reviewer reads.

Writes the provenance statement, the model card (Markdown and JSON), and the
governance report (JSON and HTML), all before deciding; a failed gate then
raises GateFailed, one line per failed gate, so the pipeline stops before package.
"""

import json
from pathlib import Path
from typing import TypedDict

from ..errors import GateFailed, ProjectError
from ..features import labels
from ..files import atomic_path, read_json, write_json
from ..governance import fairness, gates, model_card, provenance, report
from ..governance.policy import Policy
from ..release import champion as champion_version
from ..release import load_release
from ..settings import DataSettings, ModelSettings, PathSettings
from ..steps.evaluate import THRESHOLD, load_model, score_metrics
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


def _data_facts(rows, data: DataSettings, raw: Path, raw_sha256: str) -> dict:
    """What a model card says about a data split: size, label balance, groups."""
    return {
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


def model_card_json(markdown: Path) -> Path:
    """The JSON model card lives beside the Markdown one."""
    return Path(markdown).with_suffix(".json")


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
    started = provenance.utc_now()
    metrics = read_json(paths.metrics)
    validation = read_json(paths.validation_report)
    predictions = read_csv(paths.predictions)
    model_sha256 = provenance.sha256_file(paths.model)
    raw_sha256 = provenance.sha256_file(paths.raw_data)
    by_attribute = fairness.assess(predictions, data.sensitive_features)

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
        orchestrator=orchestrator,
        pipeline_run=pipeline_run,
    )
    write_json(paths.provenance, statement)

    frame = read_csv(paths.raw_data)
    train_rows, test_rows = split(frame, data)
    champion = measure_champion(paths.release, test_rows, data)

    results = (
        gates.data_gate(validation)
        + gates.performance_gates(metrics, policy)
        + gates.fairness_gates(by_attribute, policy)
        + gates.regression_gates(metrics, by_attribute, champion, policy)
        + gates.model_card_gate(policy, data.source)
        + gates.provenance_gate(read_json(paths.provenance), model_sha256, policy)
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
        evaluation_data=_data_facts(test_rows, data, paths.raw_data, raw_sha256) | {"split": "test"},
        training_data=_data_facts(train_rows, data, paths.raw_data, raw_sha256) | {"split": "train"},
        fairness=by_attribute,
        verdict=verdict,
    )
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
        "champion": champion,
        "reports": {
            "governance_report": paths.governance_report.as_posix(),
            "governance_html": paths.governance_html.as_posix(),
            "model_card": paths.model_card.as_posix(),
            "model_card_json": model_card_json(paths.model_card).as_posix(),
            "provenance": paths.provenance.as_posix(),
        },
    }
    with atomic_path(paths.governance_html) as tmp:
        tmp.write_text(report.render(summary), encoding="utf-8")
    write_json(paths.governance_report, summary)
    if verdict != "pass":
        raise GateFailed("\n".join(summary["failed"]), summary)
    return summary
