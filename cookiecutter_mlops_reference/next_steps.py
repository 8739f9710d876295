"""What to run after a bake, for the options chosen: printed by the post-generation hook.

Standard library only (the hook imports this file from the template checkout).
A `make` line is shown only when the baked Makefile has that target.
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path

# (target, why, shown when the answers say so)
TARGETS = [
    ("install", "a virtualenv in .venv with the project and its tools (needs the package index)", None),
    ("run", "the pipeline end to end on the generated sample data, offline", None),
    ("serve", "the released model over the Open Inference Protocol v2 on 127.0.0.1:8080", None),
    ("test", "the project's tests", None),
    ("validate", "the repository validator over manifests and policy", None),
    ("kfp-run", "the same pipeline through Kubeflow Pipelines' local runner", ("orchestrators", "!tekton")),
    (
        "tekton-install",
        "the Tekton Tasks, Pipeline and triggers into the current cluster (needs a cluster)",
        ("orchestrators", "!kfp"),
    ),
    (
        "repro",
        "rerun only the stages whose data, params or code changed, through DVC",
        ("data_versioning", "dvc"),
    ),
]
TARGET = re.compile(r"^([a-z][\w-]*):(?!=)", re.M)


def makefile_targets(project: Path) -> set[str]:
    """The targets the project's Makefile defines (none when it has no Makefile)."""
    makefile = project / "Makefile"
    return set(TARGET.findall(makefile.read_text())) if makefile.is_file() else set()


def _wanted(answers: Mapping[str, str], when: tuple[str, str] | None) -> bool:
    if when is None:
        return True
    field, value = when
    if value.startswith("!"):
        return answers.get(field) != value[1:]
    return answers.get(field) == value


def where_to_cd(project: Path, output_dir: str | None = None) -> str:
    """The `cd` argument: relative when the bake ran in the shell's folder, else absolute."""
    shell_dir = os.environ.get("PWD")
    if shell_dir and output_dir and os.path.abspath(shell_dir) == os.path.abspath(output_dir):
        return project.name
    return str(project.resolve())


def next_steps(answers: Mapping[str, str], project: Path, output_dir: str | None = None) -> str:
    """The lines to print after a bake: where to go, what to run, where results land."""
    targets = makefile_targets(project)
    lines = [f"Made {project.name}. Next steps:", f"  cd {where_to_cd(project, output_dir)}"]
    if answers.get("governance_profile") == "strict":  # its provenance gate wants the source commit
        lines.append("  git init -q && git add -A && git commit -qm Bake  # strict: provenance wants it")
    width = max(len(name) for name, _, _ in TARGETS) + len("make ")
    for name, why, when in TARGETS:
        if name in targets and _wanted(answers, when):
            lines.append(f"  {'make ' + name:<{width}}  # {why}")
    lines.append(
        "Reports: artifacts/reports/governance.html (the gates' verdict), model_card.md and "
        "provenance.json beside it; the released model in artifacts/releases/<version>/ "
        "(`make serve` answers with it)."
    )
    if answers.get("lineage_transport") == "file":
        lines.append("Lineage: artifacts/lineage/events.jsonl (one OpenLineage event a line).")
    lines.append(
        f"Your own data: .venv/bin/{project.name} init-data PATH --target COL "
        "(docs/your-data.md walks through it)."
    )
    return "\n".join(lines)
