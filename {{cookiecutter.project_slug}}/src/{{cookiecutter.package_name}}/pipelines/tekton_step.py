"""What runs inside the Tekton step Task (tekton/tasks/ml-step.yaml): one step, then its results.

Every ML step runs in that one Task, as `<cli> tekton step STEP`: the same
`run_step` the CLI and the local runner call, in a run context built from the
Task's environment (TEKTON, the PipelineRun uid). Then the step's Task results
are written, their values taken from params.yaml's paths and the step's
summary, never from hand-copied paths. RESULTS is the one list of them; a test
holds the Task's declared results and the Pipeline's references to it.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from ..context import RunContext
from ..errors import GateFailed, ProjectError
from ..governance.provenance import sha256_file
from ..lineage.runs import as_dict
from ..project import SLUG
from ..settings import Settings
from ..steps import BY_NAME, run_step
from ..supply_chain.dsse import public_key_path

STORE = f"{SLUG}/releases"  # the releases folder in the model store (tasks/deploy.yaml publishes there)
# The cluster's release-signing key: the Secret <slug>-signing, bound to package alone as the
# signing-key workspace, holds both halves under these names (make cluster-signing-key).
SIGNING_KEY_FILE = "release-signing.key"
SIGNING_SECRET = f"{SLUG}-signing"


@dataclass(frozen=True)
class Result:
    name: str  # the Task result; the Task passes its path in env RESULT_<NAME>
    value: Callable[[Settings, dict], str]  # from the settings and the step's summary

    @property
    def env(self) -> str:
        return "RESULT_" + self.name.upper().replace("-", "_")


RESULTS: dict[str, tuple[Result, ...]] = {
    "ingest": (Result("raw-data", lambda s, _: str(s.paths.raw_data)),),
    "validate-data": (Result("report", lambda s, _: str(s.paths.validation_report)),),
    "train": (Result("model-digest", lambda s, _: f"sha256:{sha256_file(s.paths.model)}"),),
    "evaluate": (
        Result("metrics", lambda s, _: str(s.paths.metrics)),
        Result("roc-auc", lambda _, summary: str(summary["roc_auc"])),
    ),
    "govern": (
        Result("verdict", lambda _, summary: str(summary["verdict"])),
        Result("report", lambda s, _: str(s.paths.governance_report)),
    ),
    "package": (Result("release", lambda s, _: str(s.paths.release)),),
}


def cluster_signing(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """The settings package signs with: the cluster's key when the signing-key workspace is bound.

    Unbound, package signs as it does on a laptop, with a key made in this
    run's fresh checkout: said in one warning line, since deploy trusts only
    the cluster's key and will refuse such a release.
    """
    if environ.get("SIGNING_KEY_BOUND") != "true":
        click.echo(
            f"package: warning: no signing-key workspace bound (Secret {SIGNING_SECRET}): signing with "
            f"{settings.supply_chain.signing_key}, a key made for this run that deploy will not trust",
            err=True,
        )
        return settings
    key = Path(environ.get("SIGNING_KEY_PATH", "")) / SIGNING_KEY_FILE
    for path in (key, public_key_path(key)):
        if not path.is_file():
            raise ProjectError(
                f"{path}: not in the signing-key workspace: create the Secret {SIGNING_SECRET} "
                "with both halves (make cluster-signing-key)"
            )
    return settings.model_copy(
        update={"supply_chain": settings.supply_chain.model_copy(update={"signing_key": key})}
    )


def run(step: str, settings, policy, context: RunContext, environ: Mapping[str, str] = os.environ) -> dict:
    """Run `step` as the Task does and write its results; return its summary.

    A failed governance gate is not a failed TaskRun: govern has written its
    reports, and its verdict ("fail") routes the Pipeline past package and deploy.
    """
    if step not in BY_NAME:
        raise ProjectError(f"no step {step!r}: choose one of {', '.join(BY_NAME)}")
    if step == "govern" and (models := environ.get("MODELS_PATH")):
        # A PipelineRun starts from a fresh checkout, with no champion: compare with the
        # one in service, in the model store (laid out as deploy's publish writes it).
        store = Path(models) / STORE
        settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"release": store})})
    if step == "package":
        settings = cluster_signing(settings, environ)
    try:
        summary = as_dict(run_step(step, settings, policy, context))
    except GateFailed as failed:
        if step != "govern":
            raise
        click.echo(f"governance gate failed:\n{failed}", err=True)
        summary = as_dict(failed.summary)
    # Every result the Task declares gets a value: this step's, or empty for the
    # others', so no consumer ever meets a result that was never written.
    mine = {result.env: result for result in RESULTS.get(step, ())}
    for env in {result.env for results in RESULTS.values() for result in results}:
        if target := environ.get(env):
            value = mine[env].value(settings, summary) if env in mine else ""
            Path(target).write_text(value, encoding="utf-8")
    return summary
