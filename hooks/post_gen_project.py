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
# `_repo_dir` is as given (`cookiecutter .` gives ".", and this hook runs in the
# project folder): when relative, the folder local_extensions.py came from.
# {% set repo_dir = cookiecutter._repo_dir if cookiecutter._repo_dir is defined else "" %}
# {% set repo_dir = repo_dir if repo_dir.startswith("/") else template_checkout | default("") %}
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
    "tekton": [
        "tekton",
        "deploy",
        "docs/tekton.md",
        "tests/test_tekton.py",
        "tests/test_deploy.py",
        f"{PKG}/pipelines/tekton_step.py",
        f"{PKG}/pipelines/tekton_commands.py",
        f"{PKG}/pipelines/trigger.py",
    ],
    "kfp": [
        f"{PKG}/pipelines/kfp.py",
        f"{PKG}/pipelines/kfp_task.py",
        f"{PKG}/pipelines/kfp_local.py",
        f"{PKG}/pipelines/kfp_client.py",
        f"{PKG}/pipelines/kfp_commands.py",
        f"{PKG}/pipelines/kfp_monitoring.py",
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
    "dvc": [
        f"{PKG}/data_versions.py",
        "dvc.yaml",
        ".dvc",
        ".dvcignore",
        "tests/test_dvc.py",
        "docs/data-versioning.md",
    ],
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


# The next steps for these options, from the template's own package, found as
# pre_gen_project.py finds its rules.
CHECKOUTS = [
    "{{ cookiecutter._repo_dir | default('') | escaped }}",
    "{{ template_checkout | default('') | escaped }}",
    "{{ cookiecutter._template | default('') | escaped }}",
]
OUTPUT_DIR = "{{ cookiecutter._output_dir | default('') | escaped }}"
ANSWERS = {**OPTIONS, "lineage_transport": "{{ cookiecutter.lineage_transport }}"}


def print_next_steps(project: Path) -> None:
    """What to run now; a template checkout without the module prints nothing rather than fail a good bake."""
    import importlib.util

    for place in filter(Path.is_absolute, map(Path, filter(None, CHECKOUTS))):
        path = Path(place, "cookiecutter_mlops_reference", "next_steps.py")
        if path.is_file():
            spec = importlib.util.spec_from_file_location("_template_next_steps", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            text = module.next_steps(ANSWERS, project, OUTPUT_DIR)
            try:
                print(text, flush=True)
            except OSError:  # stdout closed (`| head`): the bake itself succeeded
                pass
            return


if __name__ == "__main__":
    project = Path.cwd()
    prune(project)
    findings = validate(project)
    for line in findings:
        print(f"error: {line}", file=sys.stderr)
    if findings:
        print(f"error: the baked project failed validation ({len(findings)} findings)", file=sys.stderr)
    if findings:
        sys.exit(1)
    print_next_steps(project)
