"""The run context: who runs a step, inside which pipeline run, reporting where.

It is built once, at the edge, and handed to `steps.run_step`:
- the CLI builds it from the environment an orchestrator sets in its task's
  pod (or nothing, when a person runs a step);
- an orchestrator's task code (pipelines/) builds it from its own parameters;
- the local runner opens a pipeline run and hands each step the child context.
No module keeps run state, and nothing writes environment variables to pass
values between modules. Optional parts of the project (experiment tracking,
data versioning) join as extensions: present when their module is, they wrap
each step and add facets to its lineage.
"""

import importlib
import importlib.util
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from openlineage.client import OpenLineageClient

from .lineage import Emitter, as_run_id, make_client
from .project import ENV_PREFIX

if TYPE_CHECKING:
    from .settings import Settings

# What an orchestrator sets in a step's environment: who runs it (its name in
# capitals) and the id of the pipeline run it belongs to (its own run id or uid).
ORCHESTRATOR_ENV = f"{ENV_PREFIX}_ORCHESTRATOR"
PARENT_RUN_ENV = f"{ENV_PREFIX}_PARENT_RUN_ID"
# Optional modules that join every step run when the project has them (the
# template's hook removes the ones an option switched off).
EXTENSION_MODULES = ("tracking", "data_versions")


class Extension:
    """Something that rides along every step run. Override what applies."""

    def step_run(
        self, step_outputs: dict[str, Path], context: "RunContext", last: bool
    ) -> AbstractContextManager:
        """Wrap one step; the yielded dict receives the step's summary under "summary"."""
        return nullcontext({})

    def run_facets(self) -> dict:
        """OpenLineage run facets to add to the step's and the pipeline's events."""
        return {}

    def dataset_facets(self, path: Path) -> dict:
        """OpenLineage dataset facets to add to every dataset a step reads or writes."""
        return {}

    def describe(self) -> str | None:
        """One line for the end of `run` (where this extension recorded the run), if any."""
        return None

    def champion_moved(self, version: str, model: Path) -> None:
        """The champion alias now names release `version` (its model at `model`): a registry can follow."""


def load_extensions(settings: "Settings") -> tuple[Extension, ...]:
    """One instance of each optional module's extension this project has."""
    found = []
    for name in EXTENSION_MODULES:
        if importlib.util.find_spec(f"{__package__}.{name}") is not None:
            found.append(importlib.import_module(f".{name}", __package__).extension(settings))
    return tuple(found)


@dataclass(frozen=True)
class RunContext:
    orchestrator: str  # LOCAL, or the orchestrator's name: lineage integration, provenance builder
    parent_run_id: str | None  # the OpenLineage run id (a UUID) of the pipeline run, if any
    emitter: Emitter  # the lineage client, and whether a send has failed
    extensions: tuple[Extension, ...] = field(default=())

    @classmethod
    def create(
        cls,
        settings: "Settings",
        orchestrator: str = "LOCAL",
        parent_run: str | None = None,
        client: OpenLineageClient | None = None,
    ) -> "RunContext":
        """A context for `settings`; `parent_run` is an orchestrator's own run id (any string)."""
        return cls(
            orchestrator=orchestrator.strip().upper() or "LOCAL",
            parent_run_id=as_run_id(parent_run) if parent_run else None,
            emitter=Emitter(client or make_client(), settings.lineage.required),
            extensions=load_extensions(settings),
        )

    @classmethod
    def from_environment(
        cls,
        settings: "Settings",
        environ: Mapping[str, str] = os.environ,
        client: OpenLineageClient | None = None,
    ) -> "RunContext":
        """The context an orchestrator's environment describes (a plain local step when it sets nothing)."""
        return cls.create(
            settings, environ.get(ORCHESTRATOR_ENV, ""), environ.get(PARENT_RUN_ENV) or None, client
        )

    def child_of(self, run_id: str) -> "RunContext":
        """This context, inside the pipeline run `run_id`."""
        return replace(self, parent_run_id=run_id)

    def run_facets(self) -> dict:
        return {key: value for ext in self.extensions for key, value in ext.run_facets().items()}

    @property
    def dataset_facets(self) -> tuple:
        return tuple(ext.dataset_facets for ext in self.extensions)
