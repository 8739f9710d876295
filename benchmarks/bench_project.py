"""Install and test time of the baked default project, as a new user meets them.

Makes a fresh virtualenv, installs the project with its dev tools through its
own `make install`, then times `make test`. Package downloads are served from
pip's cache after the first run, so the figure is the warm-cache install.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def venv_size_mb(venv: Path) -> float:
    return sum(p.stat().st_size for p in venv.rglob("*") if p.is_file()) / 1e6


def main(context: dict | None = None) -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    try:
        project = Path(
            cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch), extra_context=context)
        )
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        install = timed(["make", "install"], project, env)
        test = timed(["make", "test"], project, env)
        size = venv_size_mb(project / ".venv")
    finally:
        shutil.rmtree(scratch)
    label = ", ".join(f"{k}={v}" for k, v in (context or {}).items()) or "default"
    return [
        (f"install ({label})", f"{install:.1f} s, {size:.0f} MB"),
        (f"make test ({label})", f"{test:.1f} s"),
    ]


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<45} {value}")
