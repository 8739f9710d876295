"""Run the Kubeflow pipeline on this machine with kfp.local: one subprocess per task, offline."""

import logging
import os
import re
import warnings
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProjectError
from ..governance.policy import Policy
from ..settings import Settings
from .kfp import define_training_pipeline, pipeline_arguments

LOCAL_ROOT = Path("artifacts/kfp")  # kfp.local's pipeline_root: one folder per run


@dataclass(frozen=True)
class LocalRun:
    """Where a kfp.local run put things: one folder per task, its outputs, the log."""

    folder: Path
    log: Path

    def output(self, task: str, name: str) -> Path:
        """The file (or folder) of output `name` of `task`."""
        return self.folder / task / name

    def ran(self, task: str) -> bool:
        """Whether `task` ran (a task under a false dsl.If never does)."""
        return (self.folder / task / "executor_output.json").is_file()


def run_local(settings: Settings, policy: Policy, root: Path = LOCAL_ROOT) -> LocalRun:
    """Run the pipeline with kfp.local, one subprocess per task, offline, under `root`.

    Tasks run with this interpreter (`use_venv=False`: no virtualenv, no
    installs), so this package must be importable there: its folder goes on
    PYTHONPATH. kfp.local's own chatter goes to `root`/kfp-local.log.
    """
    from kfp import local

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    log = root / "kfp-local.log"
    before = {path for path in root.iterdir() if path.is_dir()}
    source = str(Path(__file__).resolve().parents[2])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [source, saved]))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root.resolve()))
    failure = None
    try:
        with log.open("w", encoding="utf-8") as stream, _logging_to(stream), warnings.catch_warnings():
            # The image name is not a Python image; harmless here, tasks use this interpreter.
            warnings.filterwarnings("ignore", message="You may be attemping", category=RuntimeWarning)
            # Requests and limits are for a cluster (kfp.py RESOURCES); locally they do nothing.
            warnings.filterwarnings("ignore", message=r"Task '.*': settings .* have no effect in the current")
            try:
                define_training_pipeline(retries=0)(**pipeline_arguments(settings, policy))
            except RuntimeError as exc:
                failure = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    runs = sorted({path for path in root.iterdir() if path.is_dir()} - before)
    if failure is not None:
        raise ProjectError(_failure_line(failure, log))
    if not runs:
        raise ProjectError(f"kfp.local wrote no run folder under {root}; see {log}")
    return LocalRun(folder=runs[-1], log=log)


@contextmanager
def _logging_to(stream):
    """Send kfp.local's output (stdout, and log records) to `stream` for a while."""
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with redirect_stdout(stream):
            yield
    finally:
        root.removeHandler(handler)


def _failure_line(failure: str, log: Path) -> str:
    """One line for a failed kfp.local run: the task, and the step's own error if it had one."""
    task = re.search(r"Inner task failed: '([^']+)'", failure)
    errors = re.findall(r"errors\.\w+: (.+)", log.read_text(encoding="utf-8", errors="replace"))
    where = f"task {task.group(1)} failed" if task else "the pipeline failed"
    reason = f": {errors[-1].strip()}" if errors else ""
    return f"kfp-local: {where}{reason} (log: {log})"
