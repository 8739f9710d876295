"""Run every benchmark and print one table; `--write` also records it in README.md.

Nothing here runs in `make test`: speed is measured, never asserted.
"""

import os
import platform
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
WRITE = "--write" in sys.argv
sys.argv = sys.argv[:1]  # each benchmark reads its own sizes from argv when run alone

import bench_bake  # noqa: E402
import bench_governance  # noqa: E402
import bench_monitor  # noqa: E402
import bench_pipeline  # noqa: E402
import bench_project  # noqa: E402
import bench_serving  # noqa: E402
import bench_validator  # noqa: E402

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def machine() -> str:
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, {platform.system()}"


def main() -> None:
    rows = [
        *bench_bake.main(),
        *bench_validator.main(),
        *bench_pipeline.main(),
        *bench_governance.main(),
        *bench_monitor.main(),
        *bench_serving.main(),
        *bench_project.main(),
        *bench_project.main({"orchestrators": "tekton"}),
    ]
    width = max(len(name) for name, _ in rows)
    table = [f"| {'benchmark':<{width}} | result |", f"|{'-' * (width + 2)}|--------|"]
    table += [f"| {name:<{width}} | {value} |" for name, value in rows]
    text = "\n".join(table)
    print(f"\n{machine()}\n{text}")
    if WRITE:
        readme = README.read_text()
        head, rest = readme.split(BEGIN)
        _, tail = rest.split(END)
        block = f"{BEGIN}\nMeasured {date.today()} on {machine()}.\n\n{text}\n{END}"
        README.write_text(head + block + tail)


if __name__ == "__main__":
    main()
