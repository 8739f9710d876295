"""What runs inside a Kubeflow Pipelines task, around `run_step`.

The components in `pipelines/kfp.py` import this module at run time, where
`kfp.dsl` is only a stub: so it must not import kfp.
"""

import json
import shutil
from pathlib import Path

from ..context import RunContext
from ..errors import GateFailed
from ..governance.policy import Policy
from ..lineage.runs import as_dict
from ..settings import PathSettings, Settings
from ..steps import run_step


def task_inputs(params: str, policy: str, run_id: str, **paths: str) -> tuple[Settings, Policy, RunContext]:
    """Settings, policy and run context for one task: the pipeline parameters, this task's
    artifact paths, and KFP running it as a child of the pipeline run `run_id`."""
    settings = Settings.model_validate({**json.loads(params), "paths": paths})
    return settings, Policy.model_validate(json.loads(policy)), RunContext.create(settings, "KFP", run_id)


def run(step: str, params: str, policy: str, run_id: str, **paths: str) -> dict:
    """Run one step as a KFP task; return its summary.

    A failed governance gate does not fail the task: govern has written its
    reports, and its verdict routes the pipeline (package is skipped), so the
    evidence stays visible in the run.
    """
    settings, policy_, context = task_inputs(params, policy, run_id, **paths)
    try:
        return as_dict(run_step(step, settings, policy_, context))
    except GateFailed as failed:
        if step != "govern":
            raise
        print(f"governance gate failed:\n{failed}")
        return as_dict(failed.summary)


def stage(folder: str, **artifacts: str) -> dict[str, str]:
    """Copy input artifacts into `folder` under their params.yaml file names.

    KFP names an artifact's file after the output (`model`, `model_card`), and
    a step that reads files side by side (package copies the model card's JSON
    from beside its Markdown) or copies them by name needs the usual names.
    `model_card_json`, the datasheet and the technical file land beside the
    staged model card.
    """
    from ..steps.govern import documents, model_card_json

    defaults = PathSettings()
    card = Path(folder) / defaults.model_card.name
    beside_card = {"model_card_json": model_card_json(card), **documents(card)}
    staged = {}
    for field, source in artifacts.items():
        if field in beside_card:
            target = beside_card[field]
        else:
            target = Path(folder) / getattr(defaults, field).name
            staged[field] = str(target)
        shutil.copyfile(source, target)
    return staged


def copy_beside(markdown: str, target: str) -> None:
    """Copy the JSON that a step wrote beside `markdown` to `target` (its own artifact)."""
    from ..steps.govern import model_card_json

    shutil.copyfile(model_card_json(Path(markdown)), target)


def copy_documents(markdown: str, **targets: str) -> None:
    """Copy the documents govern wrote beside `markdown` (datasheet, technical file) to their artifacts."""
    from ..steps.govern import documents

    written = documents(Path(markdown))
    for name, target in targets.items():
        shutil.copyfile(written[name], target)
