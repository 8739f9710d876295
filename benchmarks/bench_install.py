"""Install time from nothing but Python and make: uv from the lock against plain pip.

Four measurements, each with an empty package cache ("fresh": everything is
downloaded, as on a new machine or CI runner) and then with the cache the
fresh run filled ("warm"):

- the baked default project's `make install` (bootstraps uv, `uv sync --frozen`
  from uv.lock), against `pip install -e '.[dev]'` into a new virtualenv;
- the template's `make demo` from a fresh copy of the repository (its own
  install, a bake, the baked project's install and its pipeline run), against
  the same steps with pip.

Each run gets its own empty cache folders (UV_CACHE_DIR, PIP_CACHE_DIR), so
the machine's caches are neither used nor touched. Needs the network.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
PYTHON = os.environ.get("BENCH_PYTHON", "python3")
SKIP = shutil.ignore_patterns(".venv", "build", ".git", "__pycache__", "*.egg-info", ".*_cache")


def run(command: list[str] | str, cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    shell = isinstance(command, str)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, shell=shell)
    if result.returncode:
        raise SystemExit(f"{command} failed in {cwd}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.perf_counter() - started


def environment(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_", "PIP_"))}
    return env | {"UV_CACHE_DIR": str(cache / "uv"), "PIP_CACHE_DIR": str(cache / "pip")}


def fresh_template(scratch: Path) -> Path:
    copy = scratch / "template"
    shutil.copytree(TEMPLATE, copy, ignore=SKIP)
    return copy


def bake(template: Path, out: Path) -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    command = [str(cookiecutter), "--no-input", "-o", str(out), str(template)]
    subprocess.run(command, check=True, capture_output=True)
    return out / "mlops-demo"


def pip_install(project: Path, extra: str, env: dict) -> float:
    pip = ".venv/bin/python -m pip install --quiet --disable-pip-version-check"
    return run(f"{PYTHON} -m venv .venv && {pip} -e '.[{extra}]'", project, env)


def baked_install(scratch: Path, tool: str, cache: Path) -> float:
    """The baked default project's install into a new virtualenv."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    project = bake(TEMPLATE, folder)
    env = environment(cache)
    if tool == "uv":
        # the validator comes from the template checkout, as `make demo` passes it
        validator = f"VALIDATOR={TEMPLATE / 'validator'}"
        return run(["make", "install", f"PYTHON={PYTHON}", validator], project, env)
    return pip_install(project, "dev", env) + run(
        f".venv/bin/python -m pip install --quiet {TEMPLATE / 'validator'}", project, env
    )


def demo(scratch: Path, tool: str, cache: Path) -> float:
    """The template's `make demo` from a copy of the repository with no virtualenv."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    template = fresh_template(folder)
    env = environment(cache)
    if tool == "uv":
        return run(["make", "demo", f"PYTHON={PYTHON}"], template, env)
    # what `make demo` did before uv: pip for the template, then for the baked project
    seconds = pip_install(template, "test", env)
    project = template / "build/demo/mlops-demo"
    seconds += run(".venv/bin/cookiecutter --no-input --output-dir build/demo .", template, env)
    seconds += pip_install(project, "dev", env)
    seconds += run(f".venv/bin/python -m pip install --quiet {template / 'validator'}", project, env)
    return seconds + run(["make", "run"], project, env)


def main(which: tuple[str, ...] = ("install", "demo")) -> list[tuple[str, str]]:
    rows = []
    scratch = Path(tempfile.mkdtemp())
    try:
        for name, measure in (("baked make install", baked_install), ("template make demo", demo)):
            if name.split()[-1] not in which:
                continue
            for tool in ("uv", "pip"):
                cache = Path(tempfile.mkdtemp(dir=scratch))
                fresh = measure(scratch, tool, cache)
                warm = measure(scratch, tool, cache)
                label = "uv, uv.lock" if tool == "uv" else "plain pip"
                rows.append((f"{name} ({label}), fresh / warm cache", f"{fresh:.1f} s / {warm:.1f} s"))
                print(f"{rows[-1][0]:<60} {rows[-1][1]}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("install", "demo"))
