"""The Kubeflow Pipelines component: present with it, and no trace of it without it."""

import re
import socket

import pytest
import tomllib
from conftest import run_project
from kfp import components

KFP_WORDS = re.compile(r"kfp|kubeflow", re.IGNORECASE)
# The SIG's kfp-tekton trusted-AI sample is cited for the fairness defaults; a
# citation, not a KFP part of the project.
CITATION = "kfp-tekton trusted-ai sample"


def test_tekton_only_project_has_no_trace_of_kfp(bake):
    # given a Tekton-only project whose own text says nothing of Kubeflow
    project = bake(orchestrators="tekton", description="Credit scoring.")
    # then no file, line, dependency or command of KFP remains
    leftovers = []
    for path in sorted(project.rglob("*")):
        if path.is_file() and path.name != ".cookiecutter.json":
            if KFP_WORDS.search(path.name):
                leftovers.append(str(path.relative_to(project)))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if KFP_WORDS.search(line) and CITATION not in line.lower():
                    leftovers.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert not leftovers, "KFP left in a Tekton-only project:\n" + "\n".join(leftovers)
    help_text = run_project(project, "--help").stdout
    assert "compile" not in help_text and "submit" not in help_text, help_text
    assert "--engine" not in run_project(project, "run", "--help").stdout


@pytest.mark.parametrize("orchestrators", ["kfp", "tekton-and-kfp"])
def test_kfp_projects_carry_the_pipeline_its_docs_and_commands(bake, orchestrators):
    project = bake(orchestrators=orchestrators)
    for rel in ("pipelines/kfp.py", "pipelines/kfp_task.py"):
        assert (project / "src/mlops_demo" / rel).is_file(), f"{rel} missing"
    assert (project / "docs/kubeflow.md").is_file() and (project / "tests/test_kfp.py").is_file()
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dep.startswith("kfp") for dep in dependencies), dependencies
    assert "kfp-run:" in (project / "Makefile").read_text()
    help_text = run_project(project, "--help").stdout
    assert "compile" in help_text and "submit" in help_text, help_text
    kubeflow_doc = (project / "docs/kubeflow.md").read_text()
    assert ("submit --host URL --package PATH" in kubeflow_doc) == (orchestrators == "tekton-and-kfp")


def test_compile_writes_the_same_ir_twice_and_kfp_loads_it(default_project, tmp_path):
    # when the pipeline is compiled twice, by two processes
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    run_project(default_project, "compile", "--output", str(first))
    run_project(default_project, "compile", "--output", str(second))
    # then the bytes are identical, and kfp reads the pipeline back
    assert first.read_bytes() == second.read_bytes(), "compile is not deterministic"
    pipeline = components.load_component_from_file(str(first))
    assert pipeline.name == "mlops-demo"
    tasks = set(pipeline.pipeline_spec.root.dag.tasks)
    assert {"ingest", "validate-data", "train", "evaluate", "govern"} <= tasks, tasks


def test_submit_to_a_closed_port_is_one_clear_line(default_project, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    package = tmp_path / "pipeline.yaml"
    run_project(default_project, "compile", "--output", str(package))
    host = f"http://127.0.0.1:{port}"
    result = run_project(default_project, "submit", "--host", host, "--package", str(package), check=False)
    assert result.returncode == 2, result
    assert result.stderr.strip() == f"Error: cannot reach Kubeflow Pipelines at {host}: Connection refused"
