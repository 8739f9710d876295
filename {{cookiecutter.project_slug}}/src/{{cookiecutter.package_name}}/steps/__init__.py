"""The ML steps and how they connect, in pipeline order.

Each step is a plain function with explicit input and output paths (in its own
module). `STEPS` names the paths each one reads and writes, and `run_step` is
the single entry every orchestrator uses: the CLI, the local runner and each
orchestrator's step tasks (pipelines/).
"""

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..context import RunContext
from ..governance.policy import Policy
from ..settings import Settings


@dataclass(frozen=True)
class Step:
    name: str  # the CLI command, and the job name in lineage
    inputs: tuple[str, ...]  # fields of settings.paths the step reads
    outputs: tuple[str, ...]  # fields of settings.paths the step writes
    call: Callable[[Settings, Policy, RunContext], Mapping]  # returns the step's typed summary (a TypedDict)
    # Files outside settings.paths the step reads (ingest: data.source), as lineage inputs.
    sources: Callable[[Settings], list[Path]] = lambda settings: []


def _ingest(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Write the raw data set: the embedded sample, or a copy of data.source."""
    from ..monitoring import guard
    from ..steps.ingest import ingest

    # Before any byte is copied: data this model's predictions shaped is refused unless policy allows it.
    checked = guard.check(
        s.data.source, s.serving.inference_log, p.monitoring.allow_training_on_own_predictions, p.version
    )
    return {**ingest(s.data, s.paths.raw_data), **checked}


def _source(s: Settings) -> list[Path]:
    return [] if s.data.source == "sample" else [Path(s.data.source)]


def _validate_data(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Check the raw data against the policy's schema; stop on bad data."""
    from ..governance.policy import mismatches
    from ..steps.validate_data import validate_data

    return validate_data(
        s.paths.raw_data, s.paths.validation_report, p.data, s.data.source, mismatches(p, s.data)
    )


def _train(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Fit the model on the training split and save it."""
    from ..steps.train import train

    return train(s.paths.raw_data, s.paths.model, s.paths.footprint, s.data, s.model)


def _evaluate(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Score the model on the test split; write metrics and predictions."""
    from ..steps.evaluate import evaluate

    return evaluate(
        s.paths.raw_data,
        s.paths.model,
        s.paths.metrics,
        s.paths.predictions,
        s.data,
        share_sensitive=p.sensitive_data.share_in_artifacts,
    )


def _govern(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Check the policy's gates; write the governance report, model card and provenance."""
    from ..steps.govern import govern

    return govern(s.paths, s.data, s.model, p, c.orchestrator, c.parent_run_id)


def _package(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Write the model (and its ONNX export, if onnxruntime agrees with it), its evidence and training
    reference as releases/<version>/, if governance passed; promote it."""
    from ..steps.package import package

    def champion_moved(version: str, model) -> None:
        for extension in c.extensions:  # a model registry follows the alias (tracking)
            extension.champion_moved(version, model)

    return package(s.paths, s.data, s.release, s.supply_chain, p.portability, on_promote=champion_moved)


STEPS = (
    Step("ingest", (), ("raw_data",), _ingest, _source),
    Step("validate-data", ("raw_data",), ("validation_report",), _validate_data),
    Step("train", ("raw_data",), ("model", "footprint"), _train),
    Step("evaluate", ("raw_data", "model"), ("metrics", "predictions"), _evaluate),
    Step(
        "govern",
        ("raw_data", "validation_report", "model", "footprint", "metrics", "predictions"),
        ("governance_report", "governance_html", "model_card", "provenance"),
        _govern,
    ),
    Step(
        "package",
        (
            "model",
            "model_card",
            "provenance",
            "governance_report",
            "governance_html",
            "raw_data",
            "predictions",
        ),
        ("release",),
        _package,
    ),
)
BY_NAME = {step.name: step for step in STEPS}


def run_step(name: str, settings: Settings, policy: Policy, context: RunContext | None = None) -> Mapping:
    """Run one step by name with the paths in `settings`; return its summary.

    The run is reported to lineage, and to every extension of the context
    (experiment tracking, data versions) that this project has. Without a
    context, the step runs as the environment describes (context.py).
    """
    from .. import lineage

    context = context or RunContext.from_environment(settings)
    step = BY_NAME[name]
    inputs = [getattr(settings.paths, field) for field in step.inputs] + step.sources(settings)
    outputs = {field: getattr(settings.paths, field) for field in step.outputs}
    with ExitStack() as stack:
        # Extensions open first, so lineage's START already carries their facets (a tracker's run).
        tracked = [
            stack.enter_context(ext.step_run(outputs, context, last=step is STEPS[-1]))
            for ext in context.extensions
        ]
        doc = step.call.__doc__ or ""
        run = stack.enter_context(lineage.step_run(step.name, doc, inputs, list(outputs.values()), context))
        summary = step.call(settings, policy, context)
        for record in (*tracked, run):
            record["summary"] = summary
    return summary
