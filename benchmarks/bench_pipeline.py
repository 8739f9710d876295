"""Pipeline overhead: lineage and governance on versus off, as the data grows.

"off" runs ingest -> validate-data -> train -> evaluate with lineage disabled
(OPENLINEAGE_DISABLED=true); "on" runs the whole pipeline, govern and package
included, with lineage to the default file transport. Both run in-process
through run_step, the entry point every orchestrator uses, on the embedded
sample at each size. Usage: python benchmarks/bench_pipeline.py [ROWS ...]
"""

import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
CORE = ("ingest", "validate-data", "train", "evaluate")


def run_once(package: str, project: Path, rows: int, governed: bool) -> float:
    settings_mod = importlib.import_module(f"{package}.settings")
    policy_mod = importlib.import_module(f"{package}.governance.policy")
    steps = importlib.import_module(f"{package}.steps")
    settings = settings_mod.load_settings(project / "params.yaml")
    settings = settings.model_copy(update={"data": settings.data.model_copy(update={"rows": rows})})
    policy = policy_mod.load_policy(project / "governance" / "policy.yaml")
    names = [step.name for step in steps.STEPS] if governed else list(CORE)
    if governed:
        os.environ.pop("OPENLINEAGE_DISABLED", None)
    else:
        os.environ["OPENLINEAGE_DISABLED"] = "true"
    shutil.rmtree(project / "artifacts", ignore_errors=True)
    started = time.perf_counter()
    for name in names:
        steps.run_step(name, settings, policy)
    return time.perf_counter() - started


def main() -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    rows_out = []
    cwd = os.getcwd()
    try:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch)))
        package = project.name.replace("-", "_")
        sys.path.insert(0, str(project / "src"))
        for module in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[module]  # another benchmark's bake of the same package
        os.chdir(project)
        run_once(package, project, 5000, governed=True)  # warm imports (the default sample size)
        for rows in SIZES:
            off = run_once(package, project, rows, governed=False)
            on = run_once(package, project, rows, governed=True)
            rows_out.append(
                (f"pipeline at {rows:,} rows: off / on", f"{off:.2f} s / {on:.2f} s = {on / off:.2f}x")
            )
    finally:
        os.chdir(cwd)
        os.environ.pop("OPENLINEAGE_DISABLED", None)
        shutil.rmtree(scratch)
    return rows_out


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<45} {value}")
