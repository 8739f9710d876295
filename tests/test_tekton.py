"""Tekton: the baked manifests follow the real v1 API, and every Task's script really runs."""

import hashlib
import hmac
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
from conftest import copy_of, package_of, shared_tool

WITH_TEKTON = ["tekton-and-kfp", "tekton"]
VARIABLE = re.compile(r"\$\((params|workspaces|context)\.([A-Za-z0-9_.-]+)\)")


def tekton_documents(project: Path):
    for path in sorted((project / "tekton").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                yield path, doc


def pipeline_of(project: Path, name: str | None = None) -> dict:
    """A Pipeline by name; the project's CI/CD Pipeline (named after the project) by default."""
    name = name or project.name
    return next(
        d for _, d in tekton_documents(project) if d["kind"] == "Pipeline" and d["metadata"]["name"] == name
    )


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


def test_deploy_runs_only_when_the_gate_passed_on_a_releasing_run(default_project):
    pipeline = pipeline_of(default_project)
    tasks = {task["name"]: task for task in pipeline["spec"]["tasks"]}
    for gated in ("package", "build-image", "deploy", "submit-kfp"):
        assert tasks[gated]["when"] == [
            {"input": "$(tasks.govern.results.verdict)", "operator": "in", "values": ["pass"]},
            {"input": "$(params.release)", "operator": "in", "values": ["true"]},
        ], gated
    assert tasks["fetch-source"]["taskRef"]["resolver"] == "hub"
    assert [task["name"] for task in pipeline["spec"]["finally"]] == ["report"]


def test_kfp_only_project_has_no_trace_of_tekton(bake):
    project = bake(orchestrators="kfp", experiment_tracking="mlflow")
    assert not (project / "tekton").exists() and not (project / "deploy").exists()
    assert not (project / "tests/test_deploy.py").exists(), "the deploy tests need deploy/"
    leftovers = []
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        # The fairness defaults cite the SIG's kfp-tekton sample: not a Tekton part.
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if "tekton" in line.lower() and "kfp-tekton" not in line.lower():
                leftovers.append(f"{rel}:{number}: {line.strip()}")
    assert not leftovers, "Tekton left in a KFP-only project:\n" + "\n".join(leftovers)


# --- Running the Pipeline on this machine, as Tekton would ------------------------------

RUN_UID = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
TEKTON_REFERENCE = re.compile(r"\$\((params|workspaces|results|context|tasks|tt)\.[^)]*\)")


class LocalPipelineRun:
    """One PipelineRun of a baked project's Pipeline, run on this machine."""

    def __init__(
        self,
        project: Path,
        root: Path,
        params: dict[str, str],
        checkout_hook=None,
        pipeline: str | None = None,
        secrets: dict[str, dict[str, str]] | None = None,
    ):
        self.project, self.root, self.checkout_hook = project, root, checkout_hook
        self.tasks = tasks_of(project)
        self.pipeline = pipeline_of(project, pipeline)
        self.secrets = secrets or {}
        self.config_maps = {
            d["metadata"]["name"]: d.get("data", {})
            for _, d in tekton_documents(project)
            if d["kind"] == "ConfigMap"
        }
        spec = self.pipeline["spec"]
        self.params = {p["name"]: p.get("default") for p in spec["params"]} | params
        self.pushed_image: str | None = None  # what the kaniko stand-in was asked to push
        assert None not in self.params.values(), f"pipeline params without a value: {self.params}"
        self.workspaces = {ws["name"]: root / "workspaces" / ws["name"] for ws in spec["workspaces"]}
        for path in self.workspaces.values():
            path.mkdir(parents=True)
        self.results: dict[str, dict[str, str]] = {}
        self.status: dict[str, str] = {}
        self.log = ""
        self.kubectl_log = root / "kubectl.log"
        self.bin = root / "bin"
        self._shims(package_of(project))

    def _shims(self, package: str) -> None:
        self.bin.mkdir()
        self._shim(
            self.project.name,  # the console command the image installs; its code comes from PYTHONPATH
            f"""
            import os, sys
            args = sys.argv[1:]
            if "submit" in args:  # no KFP server here: check the package, answer as submit does
                package = args[args.index("--package") + 1]
                assert "pipelineInfo" in open(package).read(), package
                print("submit: run run-0001 in experiment x at " + args[args.index("--host") + 1])
                sys.exit(0)
            os.execv(sys.executable, [sys.executable, "-m", {package!r}, *args])
            """,
        )
        for name in ("python", "python3"):
            self._shim(name, "import os, sys\nos.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
        self._shim(
            "kubectl",
            f"""
            import sys, yaml
            args = sys.argv[1:]
            with open({str(self.kubectl_log)!r}, "a") as log:
                log.write(" ".join(args) + "\\n")
            for index, arg in enumerate(args):
                if arg in ("--filename", "-f"):
                    yaml.safe_load(open(args[index + 1]))
                elif arg.startswith("--filename="):
                    yaml.safe_load(open(arg.split("=", 1)[1]))
            """,
        )

    def _shim(self, name: str, body: str) -> None:
        import textwrap

        path = self.bin / name
        path.write_text(f"#!{sys.executable}\n{textwrap.dedent(body).strip()}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)

    def value(self, text: str) -> str:
        """A pipeline-level substitution; KeyError when a result was never produced."""

        def replace(match: re.Match) -> str:
            parts = match.group(1).split(".")
            if parts[0] == "params":
                return self.params[parts[1]]
            if parts[0] == "context":
                return {"pipelineRun.uid": RUN_UID, "pipelineRun.name": "run-1"}[".".join(parts[1:])]
            if parts == ["tasks", "status"]:
                states = set(self.status.values())
                return "Failed" if "Failed" in states else "Completed" if "None" in states else "Succeeded"
            if parts[0] == "tasks" and parts[2] == "status":
                return self.status.get(parts[1], "None")
            if parts[0] == "tasks" and parts[2] == "results":
                return self.results[parts[1]][parts[3]]
            raise AssertionError(f"unexpected reference {match.group(0)}")

        return re.sub(r"\$\(([^)]*)\)", replace, text)

    def run(self) -> "LocalPipelineRun":
        spec = self.pipeline["spec"]
        listed: set[str] = set()
        for task in spec["tasks"]:
            assert set(task.get("runAfter", [])) <= listed, (
                f"{task['name']} is listed before what it runs after"
            )
            listed.add(task["name"])
            self.run_pipeline_task(task)
        for task in spec.get("finally", []):
            self.run_pipeline_task(task, final=True)
        return self

    def run_pipeline_task(self, task: dict, final: bool = False) -> None:
        name = task["name"]
        if not final and "Failed" in self.status.values():
            return  # after a failure Tekton starts no new task, only `finally`
        try:
            whens = [(self.value(w["input"]), w) for w in task.get("when", [])]
            params = {p["name"]: self.value(p["value"]) for p in task.get("params", [])}
        except KeyError:
            self.status[name] = "None"  # a result it needs was never produced: skipped
            return
        if any((value in w["values"]) != (w["operator"] == "in") for value, w in whens):
            self.status[name] = "None"  # skipped by its `when`
            return
        workspaces = {}
        for binding in task.get("workspaces", []):
            path = self.workspaces[binding["workspace"]] / binding.get("subPath", "")
            path.mkdir(parents=True, exist_ok=True)
            workspaces[binding["name"]] = path
        ref = task["taskRef"]
        if "resolver" in ref:
            catalog_ref = {p["name"]: p["value"] for p in ref["params"]}
            self.results[name] = self.catalog_task(catalog_ref, params, workspaces)
            self.status[name] = "Succeeded"
            return
        ok, self.results[name] = self.run_task(self.tasks[ref["name"]], params, workspaces, name)
        self.status[name] = "Succeeded" if ok else "Failed"

    def catalog_task(self, ref: dict, params: dict, workspaces: dict) -> dict:
        if ref["name"] == "git-clone":
            output = workspaces["output"]
            ignore = shutil.ignore_patterns("artifacts", ".venv", "__pycache__", ".pytest_cache")
            shutil.copytree(self.project, output, dirs_exist_ok=True, ignore=ignore)
            if self.checkout_hook:
                self.checkout_hook(output)
            return {"commit": "0123abc" + "0" * 33, "url": self.params.get("git-url", "")}
        if ref["name"] == "kaniko":
            assert (workspaces["source"] / "Dockerfile").is_file(), "kaniko would find no Dockerfile"
            self.pushed_image = params["IMAGE"]
            return {"IMAGE_DIGEST": "sha256:" + "1" * 64, "IMAGE_URL": params["IMAGE"]}
        raise AssertionError(f"no stand-in for catalog task {ref}")

    def run_task(self, task: dict, given: dict, workspaces: dict, run_name: str) -> tuple[bool, dict]:
        """Run the Task `task` as the pipeline task `run_name` (one Task may run under several)."""
        spec, name = task["spec"], task["metadata"]["name"]
        declared = {p["name"]: p for p in spec.get("params", [])}
        assert set(given) <= set(declared), f"{name}: the Task has no params {set(given) - set(declared)}"
        params = {n: given.get(n, p.get("default")) for n, p in declared.items()}
        assert None not in params.values(), f"{name}: a required param is not given: {params}"
        results_dir = self.root / "results" / run_name
        results_dir.mkdir(parents=True)
        values = {f"params.{n}": v for n, v in params.items()}
        for ws in spec.get("workspaces", []):
            bound = ws["name"] in workspaces
            assert bound or ws.get("optional"), f"{name}: workspace {ws['name']} is not bound"
            values[f"workspaces.{ws['name']}.path"] = str(workspaces.get(ws["name"], ""))
            values[f"workspaces.{ws['name']}.bound"] = "true" if bound else "false"
        values.update(
            {f"results.{r['name']}.path": str(results_dir / r["name"]) for r in spec.get("results", [])}
        )
        values.update(
            {
                "context.pipelineRun.uid": RUN_UID,
                "context.pipelineRun.name": "run-1",
                "context.taskRun.name": f"run-1-{name}",
                "context.taskRun.namespace": "ns",
            }
        )

        def substitute(text: str) -> str:
            out = re.sub(r"\$\(([a-zA-Z]+\.[^)]*)\)", lambda m: values.get(m.group(1), m.group(0)), str(text))
            left = TEKTON_REFERENCE.search(out)
            assert not left, f"{name}: {left.group(0)} has no value"
            return out

        template = spec.get("stepTemplate", {})
        for step in spec["steps"]:
            env = {"PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(self.root)}
            for source in template.get("envFrom", []) + step.get("envFrom", []):
                ref = source.get("configMapRef")
                if ref:
                    assert ref["name"] in self.config_maps or ref.get("optional"), (
                        f"{name}: no ConfigMap {ref}"
                    )
                    env.update(self.config_maps.get(ref["name"], {}))
            for item in template.get("env", []) + step.get("env", []):
                if "valueFrom" in item:
                    ref = item["valueFrom"]["secretKeyRef"]
                    assert ref["key"] in self.secrets.get(ref["name"], {}), f"{name}: no Secret {ref}"
                    env[item["name"]] = self.secrets[ref["name"]][ref["key"]]
                else:
                    env[item["name"]] = substitute(item["value"])
            cwd = Path(substitute(step.get("workingDir", str(self.root))))
            if "script" in step:
                script = self.root / f"{run_name}-{step['name']}.sh"
                script.write_text(substitute(step["script"]))
                command = ["sh", str(script)]
            else:
                command = [substitute(c) for c in step["command"] + step.get("args", [])]
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
            self.log += f"--- {run_name}/{step['name']} (exit {done.returncode})\n{done.stdout}{done.stderr}"
            if done.returncode != 0:
                return False, {}
        results = {path.name: path.read_text() for path in results_dir.iterdir()}
        declared_results = {r["name"] for r in spec.get("results", [])}
        assert set(results) == declared_results, (
            f"{name}: wrote results {set(results)}, not {declared_results}"
        )
        return True, results


def bind_signing_key(run: LocalPipelineRun) -> Path:
    """Fill the signing-key (Secret) and signing-pub (ConfigMap) workspaces as `make
    cluster-signing-key` makes them; return the trusted public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (run.workspaces["signing-key"] / "release-signing.key").write_bytes(private)
    (run.workspaces["signing-key"] / "release-signing.pub").write_bytes(public)
    (run.workspaces["signing-pub"] / "release-signing.pub").write_bytes(public)
    return run.workspaces["signing-pub"] / "release-signing.pub"


@pytest.fixture(scope="module")
def both_orchestrators(baked_once, tmp_path_factory) -> Path:
    return copy_of(baked_once(orchestrators="tekton-and-kfp"), tmp_path_factory.mktemp("both"))


ML_STEPS = {"ingest", "validate-data", "train", "evaluate", "govern", "package"}


@pytest.mark.parametrize(
    ("kfp_host", "run_id", "tracking"), [("http://kfp:8888", "run-0001", "none"), ("", "", "mlflow")]
)
def test_pipeline_run_releases_and_deploys_the_model_it_trained(bake, tmp_path, kfp_host, run_id, tracking):
    # given a project (with MLflow, its tracking ConfigMap naming an experiment, or without)
    both_orchestrators = bake(orchestrators="tekton-and-kfp", experiment_tracking=tracking)
    if tracking == "mlflow":
        config = both_orchestrators / "tekton/tracking-config.yaml"
        config.write_text(config.read_text().replace("EXPERIMENT_NAME: mlops-demo", "EXPERIMENT_NAME: team"))
    # and a PipelineRun (with or without a KFP endpoint) with the cluster's signing key bound,
    # run as the Pipeline wires it, each Task in its own process
    run = LocalPipelineRun(
        both_orchestrators,
        tmp_path,
        {"git-url": "https://git.example.com/x.git", "kfp-host": kfp_host},
    )
    trusted = bind_signing_key(run)
    run.run()
    # then every task ran and succeeded, the finally report included
    spec = run.pipeline["spec"]
    expected = dict.fromkeys([t["name"] for t in spec["tasks"] + spec["finally"]], "Succeeded")
    assert run.status == expected, f"{run.status}\n{run.log[-6000:]}"
    assert run.results["govern"]["verdict"] == "pass"
    # and the results are the files: the model digest, the published model, the rolled-out digest
    source = run.workspaces["source"]
    model = source / "artifacts/model/model.joblib"
    digest = "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()
    assert run.results["train"]["model-digest"] == digest
    version = digest.removeprefix("sha256:")[:12]
    store = run.workspaces["models"] / both_orchestrators.name / "releases"
    published = store / version / "model.joblib"
    assert published.read_bytes() == model.read_bytes(), "deploy published another model"
    assert stat.S_IMODE(published.stat().st_mode) == 0o644, "the model server's user cannot read the model"
    assert json.loads((store / "champion.json").read_text())["version"] == version
    assert run.results["deploy"]["release"] == version
    assert run.results["deploy"]["storage-uri"].endswith(f"/releases/{version}")
    # and package signed with the cluster's key: the copy in the store verifies with the trusted
    # public key, as the InferenceService's server checks it
    assert "no signing-key workspace bound" not in run.log, run.log[-4000:]
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            package_of(both_orchestrators),
            "verify",
            str(store / version),
            "--key",
            str(trusted),
        ],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    calls = run.kubectl_log.read_text()
    assert "apply --filename artifacts/deploy/inferenceservice.yaml" in calls, calls
    applied = yaml.safe_load((source / "artifacts/deploy/inferenceservice.yaml").read_text())
    assert digest in applied["metadata"]["annotations"].values(), "the InferenceService names another model"
    # and the image was pushed under the commit's SHA and is served by the digest kaniko reported
    repository = run.params["image-repository"]
    assert run.pushed_image == f"{repository}:{run.results['fetch-source']['commit']}", run.pushed_image
    (served,) = [c["image"] for c in applied["spec"]["predictor"]["containers"]]
    assert served == f"{repository}@{run.results['build-image']['IMAGE_DIGEST']}", served
    assert float(run.results["evaluate"]["roc-auc"]) > 0.7
    # and the Kubeflow pipeline was compiled, and submitted only when there is an endpoint
    assert run.results["submit-kfp"]["run-id"] == run_id
    assert (source / run.results["submit-kfp"]["package"]).is_file()
    # and lineage saw every step as a TEKTON run, child of this PipelineRun
    events = [
        json.loads(line) for line in (source / "artifacts/lineage/events.jsonl").read_text().splitlines()
    ]
    steps = {e["job"]["name"] for e in events if e["eventType"] == "COMPLETE"}
    assert {"ingest", "validate-data", "train", "evaluate", "govern", "package"} <= steps, steps
    assert {e["job"]["facets"]["jobType"]["integration"] for e in events} == {"TEKTON"}
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in events} == {RUN_UID}
    if tracking == "mlflow":
        assert_one_mlflow_run(source, package_of(both_orchestrators), "team", events)


def assert_one_mlflow_run(source: Path, package: str, experiment: str, events: list[dict]) -> None:
    """The Tasks found one another's MLflow run in the shared workspace: one run, finished,
    with the metrics and artifacts, and every ML step's lineage names it (publish, after
    the pipeline, has no run of its own)."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{source / 'mlruns/mlflow.db'}")
    (recorded,) = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert recorded.info.status == "FINISHED"
    assert recorded.data.tags["orchestrator"] == "TEKTON"
    assert recorded.data.tags["openlineage.run_id"] == RUN_UID
    metrics = json.loads((source / "artifacts/metrics/metrics.json").read_text())
    assert {k: recorded.data.metrics[k] for k in metrics} == metrics
    logged = {a.path for d in ("model", "governance") for a in client.list_artifacts(recorded.info.run_id, d)}
    assert {"model/model.joblib", "governance/governance.json"} <= logged, logged
    ml_steps = [e for e in events if e["job"]["name"] in ML_STEPS]
    assert {e["job"]["name"] for e in ml_steps} == ML_STEPS, "a step sent no lineage"
    assert {e["run"]["facets"][f"{package}_mlflow"]["runId"] for e in ml_steps} == {recorded.info.run_id}


def test_pipeline_run_on_unfair_data_skips_release_and_deploy_but_reports(both_orchestrators, tmp_path):
    # given a commit whose data is unfair to one group (the sample generator's bias knob)
    def biased_checkout(source: Path) -> None:
        package = package_of(both_orchestrators)
        code = (
            f"import sys; from {package}.sample_data import generate"
            "; generate(bias=1.0).to_csv(sys.argv[1], index=False)"
        )
        env = {**os.environ, "PYTHONPATH": str(source / "src")}
        subprocess.run([sys.executable, "-c", code, str(source / "biased.csv")], env=env, check=True)
        settings = yaml.safe_load((source / "params.yaml").read_text())
        settings["data"]["source"] = "biased.csv"
        (source / "params.yaml").write_text(yaml.safe_dump(settings))

    # when the pipeline runs on it
    run = LocalPipelineRun(
        both_orchestrators, tmp_path, {"git-url": "x", "kfp-host": "http://kfp:8888"}, biased_checkout
    ).run()
    # then govern succeeds with the verdict fail, and nothing after the gate runs
    assert run.status.get("govern") == "Succeeded", f"{run.status}\n{run.log[-6000:]}"
    assert run.results["govern"]["verdict"] == "fail"
    for gated in ("package", "build-image", "deploy", "submit-kfp"):
        assert run.status[gated] == "None", f"{gated} ran after a failed gate: {run.status}"
    assert not run.kubectl_log.exists(), "kubectl ran after a failed gate"
    assert not list(run.workspaces["models"].rglob("*")), "something reached the model store"
    # and the finally report still ran and says why nothing was deployed
    assert run.status["report"] == "Succeeded"
    assert "no deployment" in run.log


def test_trigger_template_creates_a_conformant_pipelinerun(default_project, tmp_path):
    # The conformance tool skips Triggers objects (no schema), so the PipelineRun
    # a TriggerTemplate creates is checked on its own.
    templates = [d for _, d in tekton_documents(default_project) if d["kind"] == "TriggerTemplate"]
    assert templates
    for number, template in enumerate(templates):
        for resource in template["spec"]["resourcetemplates"]:
            (tmp_path / f"{number}-{resource['kind']}.yaml").write_text(yaml.safe_dump(resource))
    result = subprocess.run(
        [sys.executable, str(shared_tool("tekton_conformance.py")), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and " 0 failed" in result.stdout, result.stdout + result.stderr


def test_docs_say_how_to_run_a_task_that_binds_two_volumes(default_project):
    # Under Tekton's default affinity assistant (coschedule: workspaces) a TaskRun
    # may mount only one PVC-backed workspace; a run that binds two is rejected.
    run = next(d for _, d in tekton_documents(default_project) if d["kind"] == "PipelineRun")
    volumes = {
        ws["name"]
        for ws in run["spec"]["workspaces"]
        if {"persistentVolumeClaim", "volumeClaimTemplate"} & set(ws)
    }
    pipeline = pipeline_of(default_project)
    heavy = [
        task["name"]
        for task in pipeline["spec"]["tasks"]
        if len({b["workspace"] for b in task.get("workspaces", [])} & volumes) > 1
    ]
    if heavy:
        docs = (default_project / "docs/tekton.md").read_text()
        assert "coschedule" in docs, f"{heavy} bind two volumes; docs/tekton.md must say to set coschedule"


def test_every_run_binds_push_credentials_where_kaniko_reads_them(default_project):
    # kaniko reads config.json from its dockerconfig workspace; a run without it
    # cannot push to a registry that wants a login.
    runs = [d for _, d in tekton_documents(default_project) if d["kind"] == "PipelineRun"]
    for _, template in tekton_documents(default_project):
        if template["kind"] == "TriggerTemplate":
            runs += [r for r in template["spec"]["resourcetemplates"] if r["kind"] == "PipelineRun"]
    # The rollback runs build nothing, so they bind no push credentials.
    runs = [r for r in runs if r["spec"]["pipelineRef"]["name"] == "mlops-demo"]
    assert len(runs) >= 2
    builds = [run for run in runs if run["spec"]["pipelineRef"]["name"] == default_project.name]
    assert len(builds) >= 2
    for run in builds:
        bindings = {ws["name"]: ws for ws in run["spec"]["workspaces"]}
        assert bindings["dockerconfig"]["secret"]["secretName"] == "mlops-demo-registry", run["metadata"]
    docs = (default_project / "docs/tekton.md").read_text()
    assert "mlops-demo-registry" in docs and "--from-file=config.json=" in docs


# --- The retrain loop: the monitoring Pipeline in the same stand-in ---------------------


@pytest.fixture(scope="module")
def served(both_orchestrators, tmp_path_factory) -> Path:
    """A copy of the project whose pipeline ran once locally: a release to monitor, and two days
    of requests in serve's log format (the second drifted)."""
    from conftest import run_in, run_project

    copy = tmp_path_factory.mktemp("served") / both_orchestrators.name
    shutil.copytree(both_orchestrators, copy)
    (copy / "openlineage.yml").write_text("transport:\n  type: console\n")
    run_project(copy, "run")
    package = package_of(copy)
    code = (
        f"from {package}.sample_data import generate"
        "; generate(rows=1000, seed=7).to_csv('normal.csv', index=False)"
        "; generate(rows=1000, seed=8, drift=1.0).to_csv('drifted.csv', index=False)"
    )
    run_in(copy, sys.executable, "-c", code)
    for day, name in (("2026-12-01", "normal"), ("2026-12-02", "drifted")):
        run_project(copy, "replay", f"{name}.csv", "--day", day)
        (copy / "artifacts/serving/inference.jsonl").rename(copy / f"{name}.jsonl")
    return copy


class Listener:
    """A stand-in EventListener on 127.0.0.1 that records what it is sent and answers 202."""

    def __init__(self):
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers, body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.mark.parametrize(
    ("day", "verdict", "retrain"), [("normal", "pass", "false"), ("drifted", "fail", "true")]
)
def test_monitoring_pipeline_asks_for_a_retrain_only_when_a_gate_fails(
    both_orchestrators, served, tmp_path, day, verdict, retrain
):
    # given the release in service on the models volume and a day of its inference log
    name = both_orchestrators.name
    listener = Listener()
    try:
        run = LocalPipelineRun(
            both_orchestrators,
            tmp_path,
            {"git-url": "https://git.example.com/x.git", "listener": listener.url},
            pipeline=f"{name}-monitor",
            secrets={f"{name}-webhook": {"token": "s3cret"}},
        )
        shutil.copytree(served / "artifacts/releases", run.workspaces["models"] / name / "releases")
        shutil.copy(served / f"{day}.jsonl", run.workspaces["monitoring"] / "inference.jsonl")
        # when the monitoring Pipeline runs, as the CronJob's monitor event starts it
        run.run()
    finally:
        listener.close()
    # then monitor judges the day, and only a failed gate asks the listener for a training run
    assert run.status["monitor"] == "Succeeded", f"{run.status}\n{run.log[-4000:]}"
    assert run.results["monitor"] == {"verdict": verdict, "retrain": retrain}, run.log[-4000:]
    reports = run.workspaces["monitoring"] / "reports"
    assert (reports / "monitoring.html").is_file() and (reports / "history.jsonl").is_file(), (
        "no reports kept"
    )
    if retrain == "false":
        assert run.status["request-retrain"] == "None" and not listener.received, run.status
        return
    assert run.status["request-retrain"] == "Succeeded", f"{run.status}\n{run.log[-4000:]}"
    ((headers, body),) = listener.received
    signature = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-GitHub-Event"] == "retrain", headers
    assert headers["X-Hub-Signature-256"] == signature, "the event is not signed with the webhook secret"
    assert json.loads(body)["repository"]["clone_url"] == "https://git.example.com/x.git", body


def test_the_image_repository_is_the_answer_without_its_tag_or_digest(bake):
    # given image answers with a registry port, a tag, a digest
    digest = "sha256:" + "c" * 64
    for image, repository in [
        ("localhost:5000/team/model:1.2", "localhost:5000/team/model"),
        (f"registry.example.com/model@{digest}", "registry.example.com/model"),
    ]:
        project = bake(image=image)
        params = yaml.safe_load((project / "tekton/pipeline.yaml").read_text())["spec"]["params"]
        defaults = {p["name"]: p.get("default") for p in params}
        # then build-image pushes to the repository, and the steps keep the full answer
        assert defaults["image-repository"] == repository and defaults["image"] == image, defaults
