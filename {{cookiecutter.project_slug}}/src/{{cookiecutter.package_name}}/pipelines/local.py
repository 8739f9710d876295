"""The local runner: every step in order, in this process, on the embedded defaults."""

import time
from collections.abc import Callable

from ..context import RunContext
from ..governance.policy import Policy
from ..settings import Settings
from ..steps import STEPS, run_step

Progress = Callable[[int, int, str, float | None], None]


def run_pipeline(
    settings: Settings, policy: Policy, context: RunContext, progress: Progress | None = None
) -> dict[str, object]:
    """Run every step in STEPS order; stop at the first failure (a failed gate stops before package)."""
    from .. import lineage

    results = {}
    with lineage.pipeline_run(run_pipeline.__doc__ or "", context) as inside:
        for index, step in enumerate(STEPS, start=1):
            if progress:
                progress(index, len(STEPS), step.name, None)
            started = time.perf_counter()
            results[step.name] = run_step(step.name, settings, policy, inside)
            if progress:
                progress(index, len(STEPS), step.name, time.perf_counter() - started)
    return results
