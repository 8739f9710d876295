"""Tekton: the baked manifests follow the real v1 API, and every Task's script really runs."""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import package_of, shared_tool

WITH_TEKTON = ["tekton-and-kfp", "tekton"]
VARIABLE = re.compile(r"\$\((params|workspaces|context)\.([A-Za-z0-9_.-]+)\)")


def tekton_documents(project: Path):
    for path in sorted((project / "tekton").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                yield path, doc


def tasks_of(project: Path) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in tekton_documents(project) if doc.get("kind") == "Task"}


@pytest.mark.parametrize("orchestrators", WITH_TEKTON)
def test_every_tekton_document_passes_the_v1_crd_schemas(bake, orchestrators):
    project = bake(orchestrators=orchestrators)
    result = subprocess.run(
        [sys.executable, str(shared_tool("tekton_conformance.py")), str(project / "tekton")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout, result.stdout


def test_scripts_take_params_only_through_env_and_images_are_pinned(default_project):
    for path, doc in tekton_documents(default_project):
        spec = doc.get("spec", {})
        params = {p["name"]: p.get("default") for p in spec.get("params", [])}
        for step in spec.get("steps", []):
            script = step.get("script", "")
            assert "$(params." not in script and "$(workspaces." not in script, f"{path.name}: {step['name']}"
            image = step["image"]
            if image.startswith("$(params."):
                image = params[image[len("$(params.") : -1]]
            name = image.rsplit("/", 1)[-1]
            assert ("@sha256:" in image or ":" in name) and not name.endswith(":latest"), (
                f"{path.name}: {image}"
            )
            assert script.startswith("#!/bin/sh\nset -eu\n") or not script, (
                f"{path.name}: script must set -eu"
            )


def test_every_task_documents_its_params_results_and_workspaces(default_project):
    for name, task in tasks_of(default_project).items():
        spec = task["spec"]
        assert spec.get("description"), f"{name}: no description"
        for kind in ("params", "results", "workspaces"):
            for item in spec.get(kind, []):
                assert item.get("description"), f"{name}: {kind[:-1]} {item['name']} has no description"
        annotations = task["metadata"]["annotations"]
        for key in (
            "tekton.dev/pipelines.minVersion",
            "tekton.dev/categories",
            "tekton.dev/tags",
            "tekton.dev/displayName",
            "tekton.dev/platforms",
        ):
            assert key in annotations, f"{name}: missing {key}"
        security = spec["stepTemplate"]["securityContext"]
        assert security["runAsNonRoot"] and not security["allowPrivilegeEscalation"], name


def test_deploy_runs_only_when_the_gate_passed(default_project):
    (pipeline,) = [doc for _, doc in tekton_documents(default_project) if doc["kind"] == "Pipeline"]
    tasks = {task["name"]: task for task in pipeline["spec"]["tasks"]}
    for gated in ("package", "build-image", "deploy", "submit-kfp"):
        (when,) = tasks[gated]["when"]
        assert when == {"input": "$(tasks.govern.results.verdict)", "operator": "in", "values": ["pass"]}, (
            gated
        )
    assert tasks["fetch-source"]["taskRef"]["resolver"] == "hub"
    assert [task["name"] for task in pipeline["spec"]["finally"]] == ["report"]


def test_kfp_only_project_has_no_trace_of_tekton(bake):
    project = bake(orchestrators="kfp")
    assert not (project / "tekton").exists() and not (project / "deploy").exists()
    leftovers = []
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        # The validator recognises Tekton manifests wherever they appear, and the
        # fairness defaults cite the SIG's kfp-tekton sample: neither is a Tekton part.
        if not path.is_file() or "/checks/" in rel or rel == "docs/validation-rules.md":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if "tekton" in line.lower() and "kfp-tekton" not in line.lower():
                leftovers.append(f"{rel}:{number}: {line.strip()}")
    assert not leftovers, "Tekton left in a KFP-only project:\n" + "\n".join(leftovers)


# --- Running the Tasks' scripts on this machine, as Tekton would -------------------------


def checkout(project: Path, source: Path) -> None:
    """What git-clone leaves in the source workspace: the project without local outputs."""
    shutil.copytree(project, source, ignore=shutil.ignore_patterns("artifacts", ".venv", "__pycache__"))


def shim_path(project: Path, bin_dir: Path) -> str:
    """A PATH where the project's command and `python` run this interpreter on the baked source."""
    bin_dir.mkdir()
    command = bin_dir / project.name
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {package_of(project)} "$@"\n')
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    (bin_dir / "python").symlink_to(sys.executable)
    return f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"


def substitute(text: str, values: dict[str, str]) -> str:
    def replace(match):
        key = f"{match.group(1)}.{match.group(2)}"
        assert key in values, f"no value for $({key})"
        return values[key]

    return VARIABLE.sub(replace, text)


def run_task(
    task: dict, project: Path, workspaces: dict[str, Path], params: dict, env: dict, tmp: Path
) -> dict:
    """Run each scripted step of `task` the way Tekton would; return its results."""
    spec = task["spec"]
    values = {f"params.{p['name']}": p.get("default", "") for p in spec.get("params", [])}
    values.update({f"params.{key}": value for key, value in params.items()})
    values.update({f"workspaces.{name}.path": str(path) for name, path in workspaces.items()})
    results_dir = tmp / f"results-{task['metadata']['name']}"
    results_dir.mkdir()
    skipped = []
    for step in spec["steps"]:
        if "script" not in step:
            skipped.append(step)
            continue
        step_env = dict(env)
        for item in spec.get("stepTemplate", {}).get("env", []) + step.get("env", []):
            step_env[item["name"]] = substitute(item["value"], values)
        script = step["script"]
        for result in spec.get("results", []):
            script = script.replace(f"$(results.{result['name']}.path)", str(results_dir / result["name"]))
        cwd = substitute(step.get("workingDir", str(tmp)), values)
        done = subprocess.run(
            ["/bin/sh", "-c", script], cwd=cwd, env=step_env, capture_output=True, text=True
        )
        assert done.returncode == 0, (
            f"{task['metadata']['name']}/{step['name']}:\n{done.stdout}\n{done.stderr}"
        )
    # Steps without a script talk to the cluster (kubectl); they are the only ones not run here.
    assert all("kubectl" in s["image"] for s in skipped), [s["name"] for s in skipped]
    return {path.name: path.read_text() for path in results_dir.iterdir()}


def test_each_task_script_runs_against_the_baked_project(default_project, tmp_path):
    # given a workspace holding the project, a models volume, and the lineage ConfigMap as env
    source, models = tmp_path / "source", tmp_path / "models"
    checkout(default_project, source)
    models.mkdir()
    config = next(d for _, d in tekton_documents(default_project) if d["kind"] == "ConfigMap")
    env = {
        "PATH": shim_path(default_project, tmp_path / "bin"),
        "PYTHONPATH": str(source / "src"),
        **config["data"],
    }
    tasks = tasks_of(default_project)
    run = {"parent-run-id": "7d3c6ed1-1f4c-4d5e-9d0a-2b7d3f0c9e11"}
    # when each Task runs in pipeline order, as the Pipeline wires them
    results = {}
    for name in ("ingest", "validate-data", "train", "evaluate", "govern", "package"):
        results[name] = run_task(tasks[name], source, {"source": source}, run, env, tmp_path)
    results["deploy"] = run_task(
        tasks["deploy"],
        source,
        {"source": source, "models": models},
        {"revision": "0123abc", "model-digest": results["train"]["model-digest"]},
        env,
        tmp_path,
    )
    results["submit-kfp"] = run_task(tasks["submit-kfp"], source, {"source": source}, {}, env, tmp_path)
    results["report"] = run_task(
        tasks["report"],
        source,
        {},
        {"pipeline-status": "Succeeded", "deploy-status": "Succeeded"},
        env,
        tmp_path,
    )
    # then the results are real: the verdict, the model digest, the published model, the IR
    assert results["govern"]["verdict"] == "pass", results["govern"]
    model = source / "artifacts/model/model.joblib"
    assert results["train"]["model-digest"] == "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()
    assert (models / default_project.name / "current" / "model.joblib").read_bytes() == model.read_bytes()
    assert (models / default_project.name / "0123abc" / "model.joblib").is_file()
    assert (source / results["submit-kfp"]["package"]).is_file() and results["submit-kfp"]["run-id"] == ""
    assert float(results["evaluate"]["roc-auc"]) > 0.7
    # and lineage saw every step as a TEKTON run of that pipeline run
    events = [
        json.loads(line) for line in (source / "artifacts/lineage/events.jsonl").read_text().splitlines()
    ]
    steps = {e["job"]["name"] for e in events if e["eventType"] == "COMPLETE"}
    assert {"ingest", "validate-data", "train", "evaluate", "govern", "package"} <= steps, steps
    assert {e["job"]["facets"]["jobType"]["integration"] for e in events} == {"TEKTON"}
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in events} == {run["parent-run-id"]}


def test_govern_task_reports_a_failed_gate_as_its_verdict(default_project, tmp_path):
    # given a workspace whose data is deliberately biased
    source = tmp_path / "source"
    checkout(default_project, source)
    env = {"PATH": shim_path(default_project, tmp_path / "bin"), "PYTHONPATH": str(source / "src")}
    biased = "from mlops_demo import sample_data as s; s.generate(bias=1.0).to_csv('biased.csv', index=False)"
    subprocess.run([sys.executable, "-c", biased], cwd=source, env=env, check=True)
    params = yaml.safe_load((source / "params.yaml").read_text())
    params["data"]["source"] = "biased.csv"
    (source / "params.yaml").write_text(yaml.safe_dump(params))
    tasks = tasks_of(default_project)
    for name in ("ingest", "validate-data", "train", "evaluate"):
        run_task(tasks[name], source, {"source": source}, {}, env, tmp_path)
    # when govern runs, then the task succeeds with verdict fail, so `when` skips deploy
    assert run_task(tasks["govern"], source, {"source": source}, {}, env, tmp_path)["verdict"] == "fail"
