"""Tekton: the baked manifests are valid v1 objects and their step scripts really work.

Three kinds of check:
- structure: every Tekton document of every Tekton configuration passes the
  independent conformance tool (the Tekton v1 CRD schemas, strict), including
  the PipelineRun a TriggerTemplate creates;
- behaviour: the Pipeline is run on this machine the way Tekton would run it
  (params, workspaces, results, `when` gates, `finally`), each step script
  executed by `sh` with the env Tekton would give it; only the catalog Tasks
  fetched by a resolver (git-clone, kaniko) and the cluster (kubectl, a KFP
  server) are stood in for;
- pruning: a Kubeflow-only project holds no trace of Tekton.
"""

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
from conftest import TEMPLATE, package_of

TEKTON_CONFIGS = [
    {"orchestrators": "tekton-and-kfp", "lineage_transport": "http"},
    {"orchestrators": "tekton", "lineage_transport": "file"},
    {"orchestrators": "tekton-and-kfp", "lineage_transport": "console", "project_name": 'Credit: "Risk" #1'},
]
# Tekton substitutes these namespaces; anything left after substitution is a bug.
TEKTON_REFERENCE = re.compile(r"\$\((params|workspaces|results|context|tasks|tt)\.[^)]*\)")
RUN_UID = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
STEP_COMMANDS = ("ingest", "validate-data", "train", "evaluate", "govern", "package")


def shared_tools() -> Path:
    for folder in (TEMPLATE.parent / "shared", Path("/work/shared")):
        if (folder / "tools" / "tekton_conformance.py").is_file():
            return folder / "tools"
    pytest.skip("no ../shared/tools/tekton_conformance.py beside the template (nor /work/shared)")


def documents(folder: Path):
    for path in sorted(folder.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict):
                yield path, doc


def tasks_of(project: Path) -> dict[str, dict]:
    return {
        doc["metadata"]["name"]: doc for _, doc in documents(project / "tekton") if doc.get("kind") == "Task"
    }


# -- structure -----------------------------------------------------------------


@pytest.mark.parametrize("options", TEKTON_CONFIGS, ids=lambda c: "-".join(c.values()))
def test_every_tekton_document_passes_the_v1_conformance_tool(bake, options, tmp_path):
    tool = shared_tools() / "tekton_conformance.py"
    project = bake(**options)
    # given the PipelineRuns a TriggerTemplate creates, as documents of their own
    extracted = tmp_path / "from-triggers"
    extracted.mkdir()
    templates = [doc for _, doc in documents(project / "tekton") if doc.get("kind") == "TriggerTemplate"]
    assert templates, "no TriggerTemplate under tekton/"
    for number, template in enumerate(templates):
        for resource in template["spec"]["resourcetemplates"]:
            assert resource["apiVersion"] == "tekton.dev/v1", f"{resource['kind']} is not tekton.dev/v1"
            (extracted / f"{number}-{resource['kind']}.yaml").write_text(yaml.safe_dump(resource))
    # when the conformance tool checks everything
    folders = [project / "tekton", project / "deploy", extracted]
    result = subprocess.run(
        [sys.executable, str(tool), *map(str, folders)], capture_output=True, text=True, check=False
    )
    # then every document passes, and all of them were looked at
    assert result.returncode == 0, f"conformance failed:\n{result.stdout}\n{result.stderr}"
    expected = sum(
        1 for folder in folders for _, doc in documents(folder) if doc["apiVersion"].startswith("tekton.dev/")
    )
    assert f"{expected} documents checked, 0 failed" in result.stdout, result.stdout


def test_tekton_objects_use_the_current_apis(default_project):
    apis = {(doc["kind"], doc["apiVersion"]) for _, doc in documents(default_project / "tekton")}
    for kind, api in apis:
        if api.startswith("triggers.tekton.dev/"):
            assert api == "triggers.tekton.dev/v1beta1", f"{kind} uses {api}"
        elif api.startswith("tekton.dev/"):
            assert api == "tekton.dev/v1", f"{kind} uses {api}"
    service = yaml.safe_load((default_project / "deploy/inferenceservice.yaml").read_text())
    assert (service["apiVersion"], service["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")


def step_scripts(project: Path):
    for name, task in tasks_of(project).items():
        for step in task["spec"]["steps"]:
            yield name, step


def test_no_param_or_workspace_is_inlined_in_a_script(default_project):
    scripts = [(name, step) for name, step in step_scripts(default_project) if "script" in step]
    assert len(scripts) >= 8, "fewer step scripts than Tasks"
    for name, step in scripts:
        script = step["script"]
        assert "$(params." not in script and "$(workspaces." not in script, f"{name}/{step['name']}"
        lines = [line for line in script.splitlines() if line.strip() and not line.startswith("#!")]
        assert lines[0] == "set -eu", f"{name}/{step['name']} does not start with set -eu"


def test_every_image_is_pinned(default_project):
    # Images are given directly or through params named image / *-image.
    images = []
    for _, doc in documents(default_project / "tekton"):
        for key, value in _walk(doc):
            if key == "image":
                images.append(value)
        for param in doc.get("spec", {}).get("params", []) if doc["kind"] in ("Task", "Pipeline") else []:
            if param["name"] == "image" or param["name"].endswith("-image"):
                images.append(param["default"])
    concrete = [image for image in images if "$(" not in image]
    assert len(concrete) >= 10, f"too few images found: {concrete}"
    for image in concrete:
        name = image.split("@")[0].rsplit("/", 1)[-1]
        assert "@sha256:" in image or (":" in name and not name.endswith(":latest")), image


def _walk(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node


def test_steps_run_as_non_root_with_resources_and_documented_interface(default_project):
    for name, task in tasks_of(default_project).items():
        spec = task["spec"]
        annotations = task["metadata"]["annotations"]
        for key in ("minVersion", "categories", "tags", "displayName", "platforms"):
            assert any(a.endswith(key) for a in annotations), f"{name}: no tekton.dev/{key} annotation"
        assert "app.kubernetes.io/version" in task["metadata"]["labels"], name
        for section in ("params", "results", "workspaces"):
            for item in spec.get(section, []):
                assert item.get("description"), f"{name}: {section} {item['name']} has no description"
        template = spec.get("stepTemplate", {}).get("securityContext", {})
        for step in spec["steps"]:
            context = {**template, **step.get("securityContext", {})}
            assert context.get("runAsNonRoot") is True and context.get("runAsUser") == 65532, f"{name}"
            assert context.get("allowPrivilegeEscalation") is False, f"{name}/{step['name']}"
            assert step["computeResources"]["limits"]["memory"], f"{name}/{step['name']}"


def test_step_tasks_get_lineage_settings_and_run_identity(default_project):
    package = package_of(default_project).upper()
    for name in (*STEP_COMMANDS, "kfp-submit"):
        template = tasks_of(default_project)[name]["spec"]["stepTemplate"]
        sources = {(next(iter(ref)), ref[next(iter(ref))]["name"]) for ref in template["envFrom"]}
        assert sources == {("configMapRef", "mlops-demo-lineage"), ("secretRef", "mlops-demo-lineage")}, name
        assert all(ref[next(iter(ref))]["optional"] is True for ref in template["envFrom"]), name
        env = {item["name"]: item["value"] for item in template["env"]}
        assert env[f"{package}_ORCHESTRATOR"] == "TEKTON", name
        assert env[f"{package}_PARENT_RUN_ID"] == "$(context.pipelineRun.uid)", name
    config = yaml.safe_load((default_project / "tekton/lineage-config.yaml").read_text())
    assert config["metadata"]["name"] == "mlops-demo-lineage"
    assert {"OPENLINEAGE__TRANSPORT__TYPE", "OPENLINEAGE_NAMESPACE"} <= set(config["data"])


def test_user_text_reaches_tekton_yaml_intact(bake):
    name = 'Credit: "Risk" #1 $(params.x) é'
    project = bake(project_name=name, project_slug="credit-risk")
    pipeline = yaml.safe_load((project / "tekton/pipeline.yaml").read_text())
    assert pipeline["metadata"]["annotations"]["tekton.dev/displayName"] == name


def test_kfp_submit_task_exists_only_with_both_orchestrators(bake):
    both = bake(orchestrators="tekton-and-kfp")
    alone = bake(orchestrators="tekton")
    assert (both / "tekton/tasks/kfp-submit.yaml").is_file()
    assert not (alone / "tekton/tasks/kfp-submit.yaml").exists()
    assert "kfp" not in (alone / "tekton/pipeline.yaml").read_text()
    assert "kfp-submit" not in (alone / "tekton/kustomization.yaml").read_text()


def test_rbac_grants_only_named_verbs(default_project):
    rules = [
        rule
        for _, doc in documents(default_project / "tekton")
        if doc["kind"] in ("Role", "ClusterRole")
        for rule in doc["rules"]
    ]
    assert rules
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule
        assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"]), (
            rule
        )


# -- behaviour: run the Pipeline as Tekton would ------------------------------------


class LocalTekton:
    """Runs a baked project's Pipeline on this machine: Tekton's substitutions, `sh` for scripts.

    Catalog Tasks (fetched by a resolver) and the cluster are stood in for:
    git-clone copies the baked project, kaniko returns a digest, kubectl and
    `submit` are recorded. Everything else is the project's own script.
    """

    def __init__(self, project: Path, root: Path, pipeline_params: dict[str, str]):
        self.project = project
        self.root = root
        self.tasks = tasks_of(project)
        # ConfigMaps the Tasks load with envFrom (Secrets are left out: none is in the repository).
        self.config_maps = {
            doc["metadata"]["name"]: doc.get("data", {})
            for _, doc in documents(project / "tekton")
            if doc["kind"] == "ConfigMap"
        }
        self.pipeline = yaml.safe_load((project / "tekton/pipeline.yaml").read_text())
        spec = self.pipeline["spec"]
        self.params = {p["name"]: p.get("default") for p in spec["params"]} | pipeline_params
        missing = [name for name, value in self.params.items() if value is None]
        assert not missing, f"pipeline params without a value: {missing}"
        self.workspaces = {}
        for ws in spec["workspaces"]:
            (root / "workspaces" / ws["name"]).mkdir(parents=True)
            self.workspaces[ws["name"]] = root / "workspaces" / ws["name"]
        self.results: dict[str, dict[str, str]] = {}
        self.status: dict[str, str] = {}
        self.kubectl_log = root / "kubectl.log"
        self.bin = root / "bin"
        self._shims(package_of(project))

    def _shims(self, package: str) -> None:
        self.bin.mkdir()
        slug = self.project.name
        # The project's console command, as the image installs it; its code comes
        # from PYTHONPATH (the Task puts the checkout's src/ there).
        self._script(
            slug,
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
        self._script("python3", "import os, sys\nos.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
        self._script(
            "kubectl",
            f"""
            import sys, yaml
            args = sys.argv[1:]
            with open({str(self.kubectl_log)!r}, "a") as log:
                log.write(" ".join(args) + "\\n")
            for arg in args:
                if arg.startswith("--filename="):
                    yaml.safe_load(open(arg.split("=", 1)[1]))
            """,
        )

    def _script(self, name: str, body: str) -> None:
        import textwrap

        path = self.bin / name
        path.write_text(f"#!{sys.executable}\n{textwrap.dedent(body).strip()}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    # -- substitution ---------------------------------------------------------

    def pipeline_value(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            parts = match.group(1).split(".")
            if parts[0] == "params":
                return self.params[parts[1]]
            if parts[0] == "context":
                return {"pipelineRun.uid": RUN_UID, "pipelineRun.name": "mlops-run-1"}[".".join(parts[1:])]
            if parts[:1] == ["tasks"] and parts[1] == "status":
                failed = any(s == "Failed" for s in self.status.values())
                skipped = any(s == "None" for s in self.status.values())
                return "Failed" if failed else "Completed" if skipped else "Succeeded"
            if parts[0] == "tasks" and parts[2] == "status":
                return self.status.get(parts[1], "None")
            if parts[0] == "tasks" and parts[2] == "results":
                return self.results[parts[1]][parts[3]]
            raise AssertionError(f"unexpected reference {match.group(0)}")

        return re.sub(r"\$\(([^)]*)\)", replace, text)

    # -- running --------------------------------------------------------------

    def run(self) -> None:
        spec = self.pipeline["spec"]
        done: set[str] = set()
        for task in spec["tasks"]:
            assert set(task.get("runAfter", [])) <= done, f"{task['name']} listed before what it runs after"
            done.add(task["name"])
            self.run_pipeline_task(task)
        for task in spec.get("finally", []):
            self.run_pipeline_task(task, final=True)

    def run_pipeline_task(self, task: dict, final: bool = False) -> None:
        name = task["name"]
        if not final and "Failed" in self.status.values():
            return  # after a failure Tekton starts no new task, only `finally`
        try:
            whens = [(self.pipeline_value(w["input"]), w) for w in task.get("when", [])]
            params = {p["name"]: self.pipeline_value(p["value"]) for p in task.get("params", [])}
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
            self.results[name] = self.catalog_task({p["name"]: p["value"] for p in ref["params"]}, workspaces)
            self.status[name] = "Succeeded"
            return
        ok, results = self.run_task(self.tasks[ref["name"]], params, workspaces)
        self.status[name] = "Succeeded" if ok else "Failed"
        self.results[name] = results

    def catalog_task(self, ref: dict, workspaces: dict) -> dict:
        if ref["name"] == "git-clone":
            ignore = shutil.ignore_patterns("artifacts", "__pycache__", ".pytest_cache")
            shutil.copytree(self.project, workspaces["output"], dirs_exist_ok=True, ignore=ignore)
            return {"commit": "0" * 40, "url": "https://git.example.com/x.git"}
        if ref["name"] == "kaniko":
            assert (workspaces["source"] / "Dockerfile").is_file(), "kaniko would find no Dockerfile"
            return {"IMAGE_DIGEST": "sha256:" + "1" * 64, "IMAGE_URL": self.params["image"]}
        raise AssertionError(f"unknown catalog task {ref}")

    def run_task(self, task: dict, given: dict, workspaces: dict) -> tuple[bool, dict]:
        spec = task["spec"]
        name = task["metadata"]["name"]
        declared = {p["name"]: p for p in spec.get("params", [])}
        assert set(given) <= set(declared), f"{name}: unknown params {set(given) - set(declared)}"
        params = {n: given.get(n, p.get("default")) for n, p in declared.items()}
        assert None not in params.values(), f"{name}: a required param is not given"
        results_dir = self.root / "results" / name
        results_dir.mkdir(parents=True)
        ws_values = {}
        for ws in spec.get("workspaces", []):
            bound = ws["name"] in workspaces
            assert bound or ws.get("optional"), f"{name}: workspace {ws['name']} not bound"
            ws_values[f"workspaces.{ws['name']}.path"] = str(workspaces.get(ws["name"], ""))
            ws_values[f"workspaces.{ws['name']}.bound"] = "true" if bound else "false"
        values = {
            **{f"params.{n}": v for n, v in params.items()},
            **ws_values,
            **{f"results.{r['name']}.path": str(results_dir / r["name"]) for r in spec.get("results", [])},
            "context.pipelineRun.uid": RUN_UID,
            "context.pipelineRun.name": "mlops-run-1",
            "context.taskRun.name": f"mlops-run-1-{name}",
            "context.taskRun.namespace": "mlops-demo",
        }

        def substitute(text: str) -> str:
            out = re.sub(r"\$\(([a-zA-Z]+\.[^)]*)\)", lambda m: values.get(m.group(1), m.group(0)), str(text))
            left = TEKTON_REFERENCE.search(out)
            assert not left, f"{name}: {left.group(0)} has no value"
            return out

        template = spec.get("stepTemplate", {})
        for step in spec["steps"]:
            env = {"PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "HOME": str(self.root)}
            for source in template.get("envFrom", []) + step.get("envFrom", []):
                if "configMapRef" in source:
                    ref = source["configMapRef"]
                    assert ref["name"] in self.config_maps or ref.get("optional"), f"{name}: no {ref}"
                    env.update(self.config_maps.get(ref["name"], {}))
            for item in template.get("env", []) + step.get("env", []):
                env[item["name"]] = substitute(item["value"])
            work = self.root / "workingdir"
            work.mkdir(exist_ok=True)
            if "script" in step:
                script = self.root / f"{name}-{step['name']}.sh"
                script.write_text(substitute(step["script"]))
                command = ["sh", str(script)]
            else:
                command = [substitute(c) for c in step["command"] + step.get("args", [])]
            result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
            self.log = getattr(self, "log", "") + f"--- {name}/{step['name']}\n{result.stdout}{result.stderr}"
            if result.returncode != 0:
                return False, {}
        results = {p.name: p.read_text() for p in results_dir.iterdir()}
        declared_results = {r["name"] for r in spec.get("results", [])}
        assert set(results) == declared_results, f"{name}: results {set(results)} != {declared_results}"
        return True, results


@pytest.fixture(scope="module")
def tekton_project(cookies_session) -> Path:
    from conftest import bake_with

    return bake_with(cookies_session, orchestrators="tekton-and-kfp")


def _cli_commands(project: Path) -> set[str]:
    from conftest import run_project

    help_text = run_project(project, "--help").stdout
    return set(re.findall(r"^  ([a-z][a-z-]*)\s", help_text, re.MULTILINE))


def local_run(project: Path, root: Path, **params: str) -> LocalTekton:
    missing = {*STEP_COMMANDS, "compile", "submit"} - _cli_commands(project)
    if missing:
        pytest.skip(f"the CLI lacks {sorted(missing)} (another component adds it)")
    tekton = LocalTekton(
        project,
        root,
        {"repo-url": "https://git.example.com/x.git", "kfp-host": "http://kfp.invalid:8888"} | params,
    )
    tekton.run()
    return tekton


def test_pipeline_scripts_run_end_to_end_and_release_the_model(tekton_project, tmp_path):
    # given the Pipeline run with its defaults, every script by sh
    tekton = local_run(tekton_project, tmp_path)
    # then every task ran and succeeded, the gate included
    expected = [t["name"] for t in tekton.pipeline["spec"]["tasks"] + tekton.pipeline["spec"]["finally"]]
    assert tekton.status == dict.fromkeys(expected, "Succeeded"), f"{tekton.status}\n{tekton.log[-6000:]}"
    assert tekton.results["govern"]["verdict"] == "pass"
    assert tekton.results["report"]["outcome"] == "released"
    # and the results point at real files in the data workspace
    data = tekton.workspaces["shared"] / "data"
    model = data / tekton.results["train"]["model"]
    digest = "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()
    assert tekton.results["train"]["model-digest"] == digest, "model digest is not the model file's"
    metrics = json.loads((data / tekton.results["evaluate"]["metrics"]).read_text())
    assert float(tekton.results["evaluate"]["roc-auc"]) == metrics["roc_auc"]
    # and deploy published that model and applied a manifest that points at it
    published = tekton.workspaces["models"] / "mlops-demo" / RUN_UID / "model.joblib"
    assert published.read_bytes() == model.read_bytes()
    assert tekton.results["deploy"]["MODEL_ARTIFACT_DIGEST"] == digest
    uri = tekton.results["deploy"]["storage-uri"]
    assert uri == f"pvc://mlops-demo-models/mlops-demo/{RUN_UID}"
    rendered = yaml.safe_load((data / "artifacts/deploy/inferenceservice.yaml").read_text())
    assert rendered["spec"]["predictor"]["model"]["storageUri"] == uri
    calls = tekton.kubectl_log.read_text().splitlines()
    assert calls[0].startswith("apply --namespace=mlops-demo --filename=") and calls[1].startswith("wait "), (
        calls
    )
    # and the Kubeflow pipeline was compiled and handed to submit
    assert tekton.results["kfp-submit"]["run-id"] == "run-0001"
    assert (data / tekton.results["kfp-submit"]["package"]).is_file()


def test_failed_gate_skips_release_and_deploy_but_not_the_report(tekton_project, tmp_path):
    # given data that is unfair to one group (the sample generator's bias knob)
    sys.path.insert(0, str(tekton_project / "src"))
    try:
        sample_data = __import__(f"{package_of(tekton_project)}.sample_data", fromlist=["generate"])
        biased = tmp_path / "biased.csv"
        sample_data.generate(rows=5000, seed=42, bias=0.9).to_csv(biased, index=False)
    finally:
        sys.path.remove(str(tekton_project / "src"))
    params = tmp_path / "params-biased.yaml"
    settings = yaml.safe_load((tekton_project / "params.yaml").read_text())
    settings["data"]["source"] = str(biased)
    params.write_text(yaml.safe_dump(settings))
    # when the pipeline runs on it (params-file is relative to the checkout)
    source = tmp_path / "run" / "workspaces" / "shared" / "source"
    tekton = local_run(tekton_project, tmp_path / "run", **{"params-file": os.path.relpath(params, source)})
    # then govern succeeds with a fail verdict, and nothing is released or deployed
    log = tekton.log[-6000:]
    assert tekton.status["govern"] == "Succeeded", log
    assert tekton.results["govern"]["verdict"] == "fail", log
    for skipped in ("package", "build-image", "deploy", "kfp-submit"):
        assert tekton.status[skipped] == "None", f"{skipped} ran after a failed gate: {tekton.status}"
    assert not list(tekton.workspaces["models"].rglob("*.joblib")), "a model reached the model store"
    assert not tekton.kubectl_log.exists(), "kubectl ran after a failed gate"
    # and the finally task still reports why
    assert tekton.results["report"]["outcome"] == "blocked"
    assert "failed gate:" in log


def test_govern_task_fails_only_when_it_writes_no_report(tekton_project, tmp_path):
    # given a pipeline whose evaluate output is missing (govern cannot decide)
    tekton = LocalTekton(tekton_project, tmp_path, {"repo-url": "x", "kfp-host": ""})
    tekton.run_pipeline_task(tekton.pipeline["spec"]["tasks"][0])  # fetch-source
    govern = next(t for t in tekton.pipeline["spec"]["tasks"] if t["name"] == "govern")
    tekton.run_pipeline_task({**govern, "runAfter": []})
    # then the task fails (no verdict to gate on) with govern's own message
    assert tekton.status["govern"] == "Failed", tekton.log
    assert "govern wrote no report" in tekton.log and "Error:" in tekton.log, tekton.log


# -- pruning ------------------------------------------------------------------------

# The validator (src/<package>/checks/ and its rule reference) knows Tekton
# manifests whichever orchestrator a project uses, so a user who adds them later
# is covered; it is the one place a Kubeflow-only project may name Tekton.
VALIDATOR_FILES = ("docs/validation-rules.md",)


def test_kubeflow_only_project_has_no_trace_of_tekton(bake):
    project = bake(orchestrators="kfp")  # the default description too
    assert not (project / "tekton").exists() and not (project / "deploy").exists()
    assert not (project / "docs/tekton.md").exists()
    checks = f"src/{package_of(project)}/checks/"
    mentions = []
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        rel = path.relative_to(project).as_posix()
        if rel.startswith(checks) or rel in VALIDATOR_FILES or rel == ".cookiecutter.json":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "tekton" in line.lower() or "kserve" in line.lower():
                mentions.append(f"{rel}:{number}: {line.strip()}")
    assert not mentions, "Tekton named in a Kubeflow-only project:\n" + "\n".join(mentions)


def test_tekton_project_documents_how_to_run_it(default_project):
    readme = (default_project / "README.md").read_text()
    assert "docs/tekton.md" in readme and "kubectl apply -k tekton/" in readme
    docs = (default_project / "docs/tekton.md").read_text()
    for needle in ("kubectl apply -k tekton/", "tkn pipeline start", "Tekton Chains", "coschedule"):
        assert needle in docs, f"docs/tekton.md does not mention {needle!r}"
