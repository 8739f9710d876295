"""Write uv.lock for the template and one lock per dependency set a bake can have.

A baked project's dependencies depend on three options (Kubeflow Pipelines or
not, MLflow or not, DVC or not): eight sets. A bake cannot resolve offline, so
the template ships a lock for each, under {{cookiecutter.project_slug}}/.locks/,
and the post-generation hook keeps the one that fits as uv.lock. This script
bakes each set with a placeholder name, runs `uv lock` in it and stores the
result; tests/test_locks.py holds each stored lock in step with its
pyproject.toml (`uv lock --check`). Run it (`make lock`, needs the network)
after changing a dependency in either pyproject.toml.
"""

import itertools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / ".locks"
PLACEHOLDER = "zq-lock-placeholder"  # the project's own name in a stored lock; the hook puts the slug in
OPTIONAL = {
    "kfp": ("orchestrators", "tekton-and-kfp", "tekton"),
    "mlflow": ("experiment_tracking", "mlflow", "none"),
    "dvc": ("data_versioning", "dvc", "none"),
}


def lock_name(components: set[str]) -> str:
    """The stored lock for a set of optional components: uv-kfp-mlflow.lock, uv-base.lock."""
    return "uv-" + ("-".join(name for name in OPTIONAL if name in components) or "base") + ".lock"


def dependency_sets() -> list[dict[str, str]]:
    """The option answers for each of the eight sets, with every other option at its default."""
    sets = []
    for chosen in itertools.product((True, False), repeat=len(OPTIONAL)):
        answers = {"project_name": PLACEHOLDER}
        for on, (option, yes, no) in zip(chosen, OPTIONAL.values(), strict=True):
            answers[option] = yes if on else no
        sets.append(answers)
    return sets


def components_of(answers: dict[str, str]) -> set[str]:
    return {name for name, (option, yes, _) in OPTIONAL.items() if answers.get(option) == yes}


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("uv not found: make install first")
    return found


def main() -> int:
    subprocess.run([uv(), "lock", "--quiet"], cwd=TEMPLATE, check=True)
    LOCKS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as out:
        for answers in dependency_sets():
            # The hook needs a lock to choose; the first run has none yet.
            stored = LOCKS / lock_name(components_of(answers))
            if not stored.exists():
                stored.write_text(f'name = "{PLACEHOLDER}"\n', encoding="utf-8")
            extra = [f"{key}={value}" for key, value in answers.items()]
            cookiecutter = str(Path(sys.executable).parent / "cookiecutter")
            command = [cookiecutter, "--no-input", "-f", "-o", out, str(TEMPLATE), *extra]
            subprocess.run(command, check=True, capture_output=True)
            project = Path(out) / PLACEHOLDER
            (project / "uv.lock").unlink()  # resolve afresh, not from the stored lock
            subprocess.run([uv(), "lock", "--quiet"], cwd=project, check=True)
            name = lock_name(components_of(answers))
            shutil.copyfile(project / "uv.lock", LOCKS / name)
            print(f"locked {name}")
            shutil.rmtree(project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
