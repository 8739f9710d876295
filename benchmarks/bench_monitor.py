"""Monitoring: `monitor` over an inference log of 10k, 100k and 1M rows (seconds, peak memory).

Bakes the default project, runs its pipeline once for a release, writes a log
in serve's format (half of it drifted, so every gate has work), then times the
`monitor` command in a fresh process per size: reading the log, the drift
statistics, the reports and lineage to the default file transport, as a user
or the Tekton Task runs it. Peak memory is the child's maximum resident set.
Usage: python benchmarks/bench_monitor.py [ROWS ...]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
TARGET_S = 10.0  # 1M rows on a 2-core machine


def write_log(project: Path, package: str, rows: int, target: Path) -> None:
    """`rows` log lines: the sample scored by the release, the second half drifted."""
    code = f"""
import sys
from pathlib import Path
from {package}.sample_data import generate
from {package}.monitoring import reference
from {package}.monitoring.replay import log_lines
from {package}.steps.evaluate import load_model
from datetime import datetime, UTC
import json
releases = Path("artifacts/releases")
release = releases / json.loads((releases / "champion.json").read_text())["version"]
ref = reference.load(release)
model = load_model(release / "model.joblib")
half = {rows} // 2
with open(sys.argv[1], "w") as out:
    for seed, drift, n in ((1, 0.0, half), (2, 1.0, {rows} - half)):
        frame = generate(rows=n, seed=seed, drift=drift)
        start = datetime(2026, 12, seed, tzinfo=UTC)
        out.write("".join(line + "\\n" for line in log_lines(frame, ref, model, "v1", start)))
"""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    subprocess.run([sys.executable, "-c", code, str(target)], cwd=project, env=env, check=True)


def timed(command: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system, all threads), peak RSS in MiB and exit status of
    one child process. CPU time moves less than wall time when other work shares the cores."""
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def main() -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    rows_out = []
    try:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch)))
        package = project.name.replace("-", "_")
        env = {**os.environ, "PYTHONPATH": str(project / "src"), "OPENLINEAGE_DISABLED": "true"}
        subprocess.run(
            [sys.executable, "-m", package, "run"], cwd=project, env=env, check=True, capture_output=True
        )
        biggest = scratch / "inference.jsonl"
        write_log(project, package, max(SIZES), biggest)
        for rows in SIZES:
            log = scratch / f"inference-{rows}.jsonl"
            with biggest.open() as source, log.open("w") as target:
                # the first and last rows/2 lines: both halves, normal and drifted
                lines = source.readlines()
                target.writelines(lines[: rows // 2] + lines[len(lines) - (rows - rows // 2) :])
            command = [
                sys.executable,
                "-m",
                package,
                "monitor",
                "--log",
                str(log),
                "--output",
                str(scratch / "m"),
            ]
            seconds, cpu, peak, code = timed(command, project)
            verdict = (
                json.loads((scratch / "m" / "monitoring.json").read_text())["verdict"]
                if code in (0, 1)
                else "error"
            )
            target = f" (target < {TARGET_S:.0f} s)" if rows == 1_000_000 else ""
            rows_out.append(
                (
                    f"monitor, {rows:,} logged rows",
                    f"{seconds:.2f} s{target} ({cpu:.1f} s CPU), peak {peak:.0f} MiB, verdict {verdict}",
                )
            )
            log.unlink()
    finally:
        shutil.rmtree(scratch)
    return rows_out


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<40} {value}")
