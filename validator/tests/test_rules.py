"""The repository validator: each rule catches its defect, at the right line.

Each test copies the default baked project, seeds a small valid Tekton suite
(Task, Pipeline, PipelineRun, triggers, RBAC) into it, then plants one defect
and expects that rule id at that file and line, and nothing else.
"""

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from validator_fixtures import TEMPLATE, default_project, run_validator  # noqa: F401 - a fixture

FIXTURE = "tekton/validator-fixture"
TASK = f"{FIXTURE}/task.yaml"
PIPELINE = f"{FIXTURE}/pipeline.yaml"
RUN = f"{FIXTURE}/pipelinerun.yaml"
TRIGGERS = f"{FIXTURE}/triggers.yaml"
RBAC = f"{FIXTURE}/rbac.yaml"

SUITE = {
    TASK: """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: vt-greet
spec:
  description: Uses $(params.undeclared) in prose only, which is not checked.
  params:
    - name: message
      type: string
    - name: loud
      type: string
      default: "false"
  workspaces:
    - name: output
    - name: cache
      optional: true
  results:
    - name: digest
  stepTemplate:
    securityContext:
      runAsNonRoot: true
      runAsUser: 65532
      allowPrivilegeEscalation: false
      seccompProfile:
        type: RuntimeDefault
  steps:
    - name: greet
      image: registry.example.com/tools:1.2.3
      env:
        - name: MESSAGE
          value: $(params.message)
        - name: OUTPUT
          value: $(workspaces.output.path)
      script: |
        set -eu
        printf '%s' "$MESSAGE" > "$OUTPUT/greeting"
        echo "built at $(date +%s)"
        printf '%s' "sha" > "$(results.digest.path)"
""",
    PIPELINE: """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: vt-pipeline
spec:
  params:
    - name: message
      type: string
  workspaces:
    - name: shared
  results:
    - name: digest
      value: $(tasks.second.results.digest)
  tasks:
    - name: first
      timeout: 10m
      taskRef:
        name: vt-greet
      params:
        - name: message
          value: $(params.message)
      workspaces:
        - name: output
          workspace: shared
    - name: second
      timeout: 10m
      runAfter:
        - first
      taskRef:
        name: vt-greet
      params:
        - name: message
          value: $(tasks.first.results.digest)
      workspaces:
        - name: output
          workspace: shared
    - name: remote
      timeout: 10m
      taskRef:
        resolver: hub
        params:
          - name: name
            value: git-clone
  finally:
    - name: report
      timeout: 5m
      taskRef:
        name: vt-greet
      params:
        - name: message
          value: $(tasks.second.status)
      workspaces:
        - name: output
          workspace: shared
""",
    RUN: """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: vt-steps
automountServiceAccountToken: false
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: vt-run-
spec:
  pipelineRef:
    name: vt-pipeline
  taskRunTemplate:
    serviceAccountName: vt-steps
  params:
    - name: message
      value: hello
  workspaces:
    - name: shared
      emptyDir: {}
""",
    TRIGGERS: """\
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata:
  name: vt-template
spec:
  params:
    - name: revision
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata:
        generateName: vt-triggered-
      spec:
        pipelineRef:
          name: vt-pipeline
        params:
          - name: message
            value: $(tt.params.revision)
        workspaces:
          - name: shared
            emptyDir: {}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerBinding
metadata:
  name: vt-binding
spec:
  params:
    - name: revision
      value: $(body.head_commit.id)
---
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata:
  name: vt-listener
spec:
  serviceAccountName: vt-triggers
  triggers:
    - name: push
      interceptors:
        - ref:
            name: cel
          params:
            - name: filter
              value: body.ref == 'refs/heads/main'
      bindings:
        - ref: vt-binding
      template:
        ref: vt-template
""",
    RBAC: """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: vt-triggers
rules:
  - apiGroups: ["triggers.tekton.dev"]
    resources: ["eventlisteners", "triggerbindings", "triggertemplates"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: vt-deployer
rules:
  - apiGroups: ["serving.kserve.io"]
    resources: ["inferenceservices"]
    verbs: ["get", "create", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: vt-deployer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: vt-deployer
subjects:
  - kind: ServiceAccount
    name: vt-deployer
""",
}


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the first line in `text` that contains `marker`."""
    for number, line in enumerate(text.splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in the seeded file")


@pytest.fixture(scope="module")
def checks():
    return importlib.import_module("mlops_validator")


@pytest.fixture
def project(default_project, tmp_path) -> Path:
    """A copy of the default baked project with the valid Tekton suite seeded in."""
    root = tmp_path / default_project.name
    shutil.copytree(default_project, root, ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    for rel, text in SUITE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def found(checks, root: Path) -> set[tuple[str, int, str]]:
    return {(f.path, f.line, f.rule) for f in checks.validate_tree(root)}


def edit(root: Path, rel: str, old: str, new: str) -> str:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text


# rule, file, text to replace, replacement, marker of the line the finding must point at
DEFECTS = [
    (
        "SEC-SECCOMP",
        TASK,
        "      seccompProfile:\n        type: RuntimeDefault\n",
        "",
        "- name: greet",
    ),
    ("TKN-TIMEOUT", PIPELINE, "- name: first\n      timeout: 10m\n", "- name: first\n", "name: first"),
    ("SEC-SA-TOKEN", RUN, "automountServiceAccountToken: false\n", "", "serviceAccountName: vt-steps"),
    ("SEC-SA-RIGHTS", RUN, "serviceAccountName: vt-steps", "serviceAccountName: vt-deployer", "vt-deployer"),
    (
        "TRIG-BRANCH-FILTER",
        TRIGGERS,
        "              value: body.ref == 'refs/heads/main'\n",
        "              value: body.repository.private == false\n",
        "- name: push",
    ),
    (
        "YAML-DUPLICATE-KEY",
        TASK,
        '      default: "false"\n',
        '      default: "false"\n      default: "true"\n',
        '"true"',
    ),
    ("K8S-APIVERSION", RBAC, "apiVersion: rbac.authorization.k8s.io/v1\n", "", "kind: Role"),
    ("K8S-KIND", RBAC, "kind: Role\n", "", "apiVersion:"),
    ("K8S-NAME", RBAC, "name: vt-triggers", "name: VT_Triggers", "VT_Triggers"),
    ("TKN-PARAM-REF", TASK, "value: $(params.message)", "value: $(params.mesage)", "$(params.mesage)"),
    ("TKN-PARAM-REF", PIPELINE, "value: $(params.message)", 'value: $(params["msg"])', "msg"),
    ("TKN-PARAM-REF", TRIGGERS, "$(tt.params.revision)", "$(tt.params.rev)", "$(tt.params.rev)"),
    ("TKN-WORKSPACE-REF", TASK, "$(workspaces.output.path)", "$(workspaces.out.path)", "workspaces.out."),
    ("TKN-WORKSPACE-REF", TASK, "$(workspaces.output.path)", "$(workspaces.output.dir)", "output.dir"),
    ("TKN-WORKSPACE-REF", PIPELINE, "workspace: shared\n", "workspace: shard\n", "shard"),
    (
        "TKN-WORKSPACE-REF",
        RUN,
        "- name: shared\n",
        "- name: shared\n      emptyDir: {}\n    - name: extra\n",
        "extra",
    ),
    ("TKN-RESULT-REF", TASK, "$(results.digest.path)", "$(results.digets.path)", "digets"),
    (
        "TKN-RESULT-REF",
        PIPELINE,
        "$(tasks.first.results.digest)",
        "$(tasks.first.results.sha)",
        "results.sha",
    ),
    ("TKN-RESULT-REF", PIPELINE, "$(tasks.second.results.digest)", "$(tasks.third.results.digest)", "third"),
    ("TKN-TASKREF", PIPELINE, "name: vt-greet", "name: vt-gret", "vt-gret"),
    ("TKN-PIPELINEREF", RUN, "name: vt-pipeline", "name: vt-pipe", "vt-pipe"),
    ("TKN-TRIGGER-REF", TRIGGERS, "- ref: vt-binding", "- ref: vt-bind", "ref: vt-bind"),
    ("TKN-TRIGGER-REF", TRIGGERS, "ref: vt-template", "ref: vt-tmpl", "vt-tmpl"),
    ("TKN-RUNAFTER", PIPELINE, "        - first\n", "        - frist\n", "frist"),
    (
        "TKN-RUNAFTER",
        PIPELINE,
        "    - name: report\n",
        "    - name: report\n      runAfter: [second]\n",
        "runAfter: [second]",
    ),
    (
        "TKN-CYCLE",
        PIPELINE,
        "    - name: first\n",
        "    - name: first\n      runAfter: [second]\n",
        "name: first",
    ),
    (
        "TKN-CYCLE",
        PIPELINE,
        "$(tasks.first.results.digest)",
        "$(tasks.report.results.digest)",
        "tasks.report",
    ),
    ("TKN-CYCLE", PIPELINE, "        - first\n", "        - first\n        - second\n", "name: second"),
    ("TKN-PARAM-MISSING", RUN, "  params:\n    - name: message\n      value: hello\n", "", "pipelineRef:"),
    (
        "TKN-PARAM-MISSING",
        PIPELINE,
        "- name: message\n          value: $(tasks",
        "- name: msg\n          value: $(tasks",
        "name: second",
    ),
    (
        "TKN-PARAM-MISSING",
        TRIGGERS,
        "          - name: message\n",
        "          - name: note\n",
        "pipelineRef:",
    ),
    (
        "TKN-PARAM-MISSING",
        TRIGGERS,
        "    - name: revision\n      value:",
        "    - name: commit\n      value:",
        "ref: vt-template",
    ),
    (
        "TKN-WORKSPACE-MISSING",
        RUN,
        "  workspaces:\n    - name: shared\n      emptyDir: {}\n",
        "",
        "pipelineRef:",
    ),
    (
        "TKN-WORKSPACE-MISSING",
        PIPELINE,
        "      workspaces:\n        - name: output\n          workspace: shared\n    - name: second",
        "    - name: second",
        "name: first",
    ),
    (
        "SEC-SCRIPT-INJECTION",
        TASK,
        """'%s' "$MESSAGE\"""",
        """'%s' "$(params.message)\"""",
        "printf '%s' \"$(params",
    ),
    ("SEC-SCRIPT-INJECTION", TASK, '"$OUTPUT/greeting"', '"$(workspaces.output.path)/greeting"', "/greeting"),
    ("SEC-RUN-AS-NON-ROOT", TASK, "      runAsNonRoot: true\n      runAsUser: 65532\n", "", "- name: greet"),
    ("SEC-RUN-AS-NON-ROOT", TASK, "runAsUser: 65532", "runAsUser: 0", "runAsUser: 0"),
    (
        "SEC-PRIVILEGED",
        TASK,
        "allowPrivilegeEscalation: false",
        "allowPrivilegeEscalation: true",
        "allowPrivilege",
    ),
    (
        "SEC-PRIVILEGED",
        TASK,
        "      env:\n",
        "      securityContext:\n        privileged: true\n      env:\n",
        "privileged",
    ),
    ("SEC-IMAGE-PIN", TASK, "tools:1.2.3", "tools:latest", "tools:latest"),
    (
        "SEC-IMAGE-PIN",
        TASK,
        "registry.example.com/tools:1.2.3",
        "registry.example.com:5000/tools",
        "5000/tools",
    ),
    ("SEC-RBAC-WILDCARD", RBAC, 'verbs: ["get", "list", "watch"]', 'verbs: ["get", "*"]', "verbs"),
    (
        "SEC-RBAC-WILDCARD",
        RBAC,
        '  - apiGroups: ["triggers.tekton.dev"]',
        '  - apiGroups:\n      - "*"',
        '- "*"',
    ),
]


def _case_id(case) -> str:
    return f"{case[0]}:{Path(case[1]).stem}:{case[-1][:16]}"


@pytest.mark.parametrize(("rule", "rel", "old", "new", "marker"), DEFECTS, ids=[_case_id(c) for c in DEFECTS])
def test_validator_catches_seeded_tekton_defect_at_its_line(checks, project, rule, rel, old, new, marker):
    # given the valid suite passes
    assert found(checks, project) == set(), "the seeded suite is not clean to begin with"
    # when one defect is planted
    text = edit(project, rel, old, new)
    # then exactly that rule fires, at the line of the marker
    findings = found(checks, project)
    expected = (rel, line_of(text, marker), rule)
    assert expected in findings, f"expected {expected}, got {sorted(findings)}"
    assert {f[2] for f in findings} == {rule}, f"other rules fired too: {sorted(findings)}"


# The baked Pipeline's train task, from its step param to its last workspace binding.
TRAIN_BINDINGS = """\
          value: train
        - name: image
          value: $(params.image)
        - name: parent-run-id
          value: $(context.pipelineRun.uid)
      workspaces:
        - name: source
          workspace: source
"""

# rule, file, file text to write (None: keep), text to replace, replacement, marker
OTHER_DEFECTS = [
    ("YAML-PARSE", "tekton/validator-fixture/broken.yaml", "a: 1\nb: c: 2\nd: 3\n", None, None, "b: c: 2"),
    ("PY-COMPILE", "scripts/broken.py", "x = 1\n\ndef f(:\n    pass\n", None, None, "def f(:"),
    (
        "GOV-POLICY",
        "governance/policy.yaml",
        None,
        "{dtype: int, min: 18",
        "{dtype: integer, min: 18",
        "age:",
    ),
    # a number where the version string goes, whatever the current version is
    (
        "GOV-POLICY",
        "governance/policy.yaml",
        None,
        '\nversion: "',
        '\nversion: 1.0\nold_version: "',
        "version: 1.0",
    ),
    ("GOV-POLICY", "governance/policy.yaml", None, "profile: ", "profile: lenient\nold_profile: ", "lenient"),
    ("GOV-POLICY", "governance/policy.yaml", None, "min: 18, max: 120", "min: 121, max: 120", "age:"),
    ("GOV-POLICY", "governance/policy.yaml", None, "min_rows: 100", "min_rows: 0", "min_rows"),
    ("GOV-POLICY", "governance/policy.yaml", None, "\ndata:\n", "\nreviews: true\ndata:\n", "reviews: true"),
    # params.yaml names a sensitive attribute the policy's schema lacks
    (
        "GOV-POLICY",
        "params.yaml",
        None,
        "sensitive_features: [sex]",
        "sensitive_features: [sex, religion]",
        "sensitive_features:",
    ),
    (
        "KSV-PROTOCOL",
        "deploy/inferenceservice.yaml",
        None,
        "path: /v2/health/ready",
        "path: /healthz",
        "path: /healthz",
    ),
    (
        "KSV-NON-ROOT",
        "deploy/inferenceservice.yaml",
        None,
        "runAsNonRoot: true",
        "runAsNonRoot: false",
        "runAsNonRoot: false",
    ),
    (
        "KSV-RESOURCES",
        "deploy/inferenceservice.yaml",
        None,
        '          limits:\n            cpu: "1"\n',
        "          limits:\n",
        "resources:",
    ),
    (
        "KSV-CANARY",
        "deploy/inferenceservice.yaml",
        None,
        "    minReplicas: 1\n",
        "    minReplicas: 1\n    canaryTrafficPercent: 150\n",
        "canaryTrafficPercent",
    ),
    # the release-signing key bound to train as well as package (train comes first in the file)
    (
        "SEC-SIGNING-KEY",
        "tekton/pipeline.yaml",
        None,
        TRAIN_BINDINGS,
        TRAIN_BINDINGS + "        - name: signing-key\n          workspace: signing-key\n",
        "workspace: signing-key",
    ),
    (
        "SUPPRESS-UNUSED",
        "scripts/extra.py",
        "x = 1  # mlops-validate: ignore[TKN-RUNAFTER]\n",
        None,
        None,
        "ignore[",
    ),
    (
        "REF-PATH",
        "README.md",
        None,
        "## Commands\n",
        "## Commands\n\nSee `docs/missing.md`.\n",
        "docs/missing.md",
    ),
    (
        "REF-PATH",
        "README.md",
        None,
        "## Commands\n",
        "## Commands\n\nSee [rules](docs/rule.md).\n",
        "docs/rule.md",
    ),
    (
        "REF-PATH",
        "Makefile",
        None,
        "\t$(CLI) run\n",
        "\t$(CLI) run tekton/nowhere/\n",
        "tekton/nowhere",
    ),
]


@pytest.mark.parametrize(
    ("rule", "rel", "content", "old", "new", "marker"),
    OTHER_DEFECTS,
    ids=[_case_id(c) for c in OTHER_DEFECTS],
)
def test_validator_catches_seeded_file_defect_at_its_line(
    checks, project, rule, rel, content, old, new, marker
):
    # given a file written or edited with one defect
    if content is not None:
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(content)
        text = content
    else:
        text = edit(project, rel, old, new)
    # when validated, then that rule fires at the marker's line and no other rule fires
    findings = found(checks, project)
    expected = (rel, line_of(text, marker), rule)
    assert expected in findings, f"expected {expected}, got {sorted(findings)}"
    assert {f[2] for f in findings} == {rule}, f"other rules fired too: {sorted(findings)}"


def test_signing_key_is_caught_under_another_workspace_backed_by_its_secret(checks, project):
    # given the run backing a second Pipeline workspace with the signing Secret, bound to train as models
    edit(
        project,
        "tekton/pipelinerun.yaml",
        "    - name: signing-pub\n",
        f"    - name: keys\n      secret:\n        secretName: {project.name}-signing\n"
        "    - name: signing-pub\n",
    )
    edit(
        project,
        "tekton/pipeline.yaml",
        "\n  workspaces:\n",
        "\n  workspaces:\n    - name: keys\n      optional: true\n",
    )
    text = edit(
        project,
        "tekton/pipeline.yaml",
        TRAIN_BINDINGS,
        TRAIN_BINDINGS + "        - name: models\n          workspace: keys\n",
    )
    # when validated, then the key is reported where train binds it, and nothing else
    findings = found(checks, project)
    expected = ("tekton/pipeline.yaml", line_of(text, "workspace: keys"), "SEC-SIGNING-KEY")
    assert findings == {expected}, f"expected {expected}, got {sorted(findings)}"
    # and a suppression on that line silences it, as for every rule
    edit(
        project,
        "tekton/pipeline.yaml",
        "workspace: keys\n",
        "workspace: keys  # mlops-validate: ignore[SEC-SIGNING-KEY]\n",
    )
    report = checks.check(project)
    assert report.findings == [], report.findings
    assert [f.rule for f in report.suppressed] == ["SEC-SIGNING-KEY"], report.suppressed


def test_every_rule_has_a_seeded_defect_test(checks):
    tested = {case[0] for case in DEFECTS + OTHER_DEFECTS}
    assert tested == set(checks.RULE_IDS), (
        f"untested: {set(checks.RULE_IDS) - tested}; unknown: {tested - set(checks.RULE_IDS)}"
    )


def test_rules_doc_lists_exactly_the_implemented_rules(checks):
    doc = (TEMPLATE / "validator" / "RULES.md").read_text()
    documented = re.findall(r"^### `([A-Z0-9-]+)`$", doc, flags=re.M)
    assert len(documented) == len(set(documented)), "a rule is documented twice"
    implemented = set(checks.RULE_IDS)
    assert set(documented) == implemented, (
        f"undocumented: {implemented - set(documented)}; not implemented: {set(documented) - implemented}"
    )
    for rule in documented:
        section = doc.split(f"### `{rule}`", 1)[1].split("\n### ", 1)[0]
        for part in ("**Catches**", "**Why**", "**Fix**"):
            assert part in section, f"{rule} has no {part} line"


def test_valid_tekton_and_yaml_idioms_are_not_reported(checks, project):
    # given shell substitution in a script, a ClusterTriggerBinding, GitLab's !reference tag and a merge key
    edit(project, TASK, "set -eu\n", "set -eu\n        here=$(pwd)\n")
    edit(
        project,
        TRIGGERS,
        "        - ref: vt-binding\n",
        "        - ref: vt-binding\n        - ref: github-push\n          kind: ClusterTriggerBinding\n",
    )
    (project / ".gitlab-ci.yml").write_text(
        ".setup: &setup\n  image: python:3.11\n  script: [make install]\n"
        "test:\n  <<: *setup\n  image: python:3.12\n"
        "  script:\n    - !reference [.setup, script]\n    - make test\n"
    )
    # then nothing is reported
    assert found(checks, project) == set()


def test_validate_cli_reports_json_and_exits_1_on_findings(project):
    # given a runAfter typo
    text = edit(project, PIPELINE, "        - first\n", "        - frist\n")
    # when validated with --format json
    result = run_validator(project, "--format", "json")
    # then exit 1 and the finding as JSON with its line
    assert result.returncode == 1, result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert {"path": PIPELINE, "line": line_of(text, "frist"), "rule": "TKN-RUNAFTER"} == {
        k: findings[0][k] for k in ("path", "line", "rule")
    }, findings
    text_result = run_validator(project)
    assert text_result.returncode == 1
    assert f"{PIPELINE}:{line_of(text, 'frist')}: TKN-RUNAFTER: " in text_result.stdout


def test_validator_runs_with_only_the_standard_library_and_pyyaml(default_project, tmp_path):
    # given an interpreter that sees no site-packages, only the validator's source and PyYAML
    yaml_home = tmp_path / "only-yaml"
    yaml_home.mkdir()
    site = Path(yaml.__file__).resolve().parent.parent
    for name in ("yaml", "_yaml"):
        if (site / name).exists():
            (yaml_home / name).symlink_to(site / name)
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "from mlops_validator import check;"
        "report = check(sys.argv[3]);"
        "heavy = {'pydantic', 'pandas', 'numpy', 'click', 'sklearn', 'kfp'} & set(sys.modules);"
        "print(len(report.findings), sorted(heavy), len(report.notes))"
    )
    # when the validator runs there on a baked project (whose policy loader needs pydantic)
    source = str(TEMPLATE / "validator" / "src")
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, source, str(yaml_home), str(default_project)],
        capture_output=True,
        text=True,
    )
    # then it works, imports nothing heavy, and notes the policy check it could not run
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "[]", "1"], result.stdout


@pytest.mark.parametrize("where", ["same line", "line above"])
def test_inline_suppression_silences_only_the_named_rule_on_its_line(checks, project, where):
    # given a runAfter typo, silenced by a comment on its line or on the line above
    if where == "same line":
        edit(
            project,
            PIPELINE,
            "        - first\n",
            "        - frist  # mlops-validate: ignore[TKN-RUNAFTER]\n",
        )
    else:
        edit(
            project,
            PIPELINE,
            "        - first\n",
            "        # mlops-validate: ignore[TKN-RUNAFTER]\n        - frist\n",
        )
    # when validated, then nothing is reported, and the finding is listed as suppressed
    report = checks.check(project)
    assert report.findings == [], report.findings
    assert [f.rule for f in report.suppressed] == ["TKN-RUNAFTER"], report.suppressed


def test_suppression_of_another_rule_does_not_hide_the_finding(checks, project):
    # given a runAfter typo with a comment naming a different rule
    edit(project, PIPELINE, "        - first\n", "        - frist  # mlops-validate: ignore[K8S-NAME]\n")
    # when validated, then the typo is still reported, and so is the unused suppression
    rules = {f.rule for f in checks.check(project).findings}
    assert rules == {"TKN-RUNAFTER", "SUPPRESS-UNUSED"}, rules


def test_checking_a_project_writes_no_bytecode_into_it(project):
    # given a Python that writes bytecode as it imports (a user's, unlike this machine's)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # when the validator checks the project, importing its policy loader
    result = subprocess.run(
        [sys.executable, "-m", "mlops_validator"], cwd=project, env=env, capture_output=True, text=True
    )
    # then it leaves no __pycache__ behind (nor in a fresh bake, whose hook runs it)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(project.rglob("__pycache__")), list(project.rglob("__pycache__"))
