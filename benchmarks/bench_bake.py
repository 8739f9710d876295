"""Bake time: render plus post-generation validation, against plain rendering.

The baseline is cookiecutter rendering the same template with its hooks/
folder removed: the ratio is what pruning and validation cost a user.
Prints median wall time over RUNS bakes of the default project.
"""

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9


def median_bake_seconds(template: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = Path(tempfile.mkdtemp())
        started = time.perf_counter()
        cookiecutter(str(template), no_input=True, output_dir=str(out))
        times.append(time.perf_counter() - started)
        shutil.rmtree(out)
    return statistics.median(times)


def main() -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    plain = scratch / "template"
    shutil.copytree(
        TEMPLATE, plain, ignore=shutil.ignore_patterns(".venv", ".git", "build", "hooks", "*.pyc")
    )
    try:
        baseline = median_bake_seconds(plain, RUNS)
        full = median_bake_seconds(TEMPLATE, RUNS)
    finally:
        shutil.rmtree(scratch)
    return [
        ("bake, plain render (no hooks), median", f"{baseline:.3f} s"),
        ("bake, render + prune + validate, median", f"{full:.3f} s (target <= 1.0 s)"),
        ("bake overhead ratio", f"{full / baseline:.2f}x"),
    ]


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<45} {value}")
