"""Prune what the chosen options switch off, then validate the baked project.

The validator is the template's own `validator/` package, imported from the
template checkout (offline): the same code, at the same version, that the
project's pre-commit hook, `make validate` and CI run later. A finding fails
the bake, and cookiecutter then removes the output folder.
"""

import shutil
import sys
from pathlib import Path

PACKAGE = "{{ cookiecutter.package_name }}"
# Where cookiecutter found the template (a local folder, or its clone of a git
# repository); cruft renders without it, and then an installed validator is used.
# {% set repo_dir = cookiecutter._repo_dir if cookiecutter._repo_dir is defined else "" %}
TEMPLATE_DIR = "{{ repo_dir | escaped }}"
OPTIONS = {
    "orchestrators": "{{ cookiecutter.orchestrators }}",
    "experiment_tracking": "{{ cookiecutter.experiment_tracking }}",
    "data_versioning": "{{ cookiecutter.data_versioning }}",
    "ci": "{{ cookiecutter.ci }}",
}
PKG = f"src/{PACKAGE}"

# What each component owns. A component not selected loses these paths; the
# rest of its traces are Jinja conditions inside shared files.
COMPONENT_PATHS = {
    "tekton": ["tekton", "deploy", "docs/tekton.md", "tests/test_tekton.py"],
    "kfp": [
        f"{PKG}/pipelines/kfp.py",
        f"{PKG}/pipelines/kfp_task.py",
        "docs/kubeflow.md",
        "tests/test_kfp.py",
    ],
    "mlflow": [
        f"{PKG}/tracking.py",
        f"{PKG}/schemas/MlflowRunFacet.json",
        "tests/test_tracking.py",
        "docs/experiment-tracking.md",
        "tekton/tracking-config.yaml",
    ],
    "dvc": ["dvc.yaml", ".dvc", ".dvcignore", "tests/test_dvc.py", "docs/data-versioning.md"],
    "github-actions": [".github"],
    "gitlab-ci": [".gitlab-ci.yml"],
}


def selected_components() -> set[str]:
    chosen = {OPTIONS["experiment_tracking"], OPTIONS["data_versioning"], OPTIONS["ci"]}
    orchestrators = OPTIONS["orchestrators"]
    chosen |= {"tekton", "kfp"} if orchestrators == "tekton-and-kfp" else {orchestrators}
    return chosen


def prune(root: Path) -> None:
    keep = selected_components()
    for component, paths in COMPONENT_PATHS.items():
        if component in keep:
            continue
        for rel in paths:
            target = root / rel
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()


def validate(root: Path) -> list[str]:
    if TEMPLATE_DIR:
        sys.path.insert(0, str(Path(TEMPLATE_DIR) / "validator" / "src"))
    from mlops_validator import check

    return [finding.format() for finding in check(root).findings]


if __name__ == "__main__":
    project = Path.cwd()
    prune(project)
    findings = validate(project)
    for line in findings:
        print(f"error: {line}", file=sys.stderr)
    if findings:
        print(f"error: the baked project failed validation ({len(findings)} findings)", file=sys.stderr)
    sys.exit(1 if findings else 0)
