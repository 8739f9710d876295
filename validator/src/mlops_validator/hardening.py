"""Cluster hardening: Pod Security "restricted" fields, least-privilege accounts, gated triggers.

What a platform team checks before it lets a pipeline into a shared cluster:
- every Tekton step runs under a seccomp profile (the "restricted" standard
  requires RuntimeDefault or Localhost);
- every task of a Pipeline has a timeout, so a stuck step cannot hold a node;
- the account a PipelineRun gives all its tasks by default mounts no API token
  and holds no write rights: deploy rights belong to an account given to the
  deploy task alone (taskRunSpecs);
- the release-signing key reaches the package step alone: no other task of a
  Pipeline binds the workspace that holds it;
- an EventListener trigger filters on the branch (a CEL interceptor over
  `body.ref`), so a push to any branch cannot release.
"""

from .findings import Finding
from .loader import Tree, line_of, value_line
from .security import task_specs
from .tekton import Index

RULE_IDS = {
    "SEC-SECCOMP": "a Tekton step runs without a seccomp profile (RuntimeDefault or Localhost)",
    "TKN-TIMEOUT": "a Pipeline task has no timeout",
    "SEC-SA-TOKEN": "the default account of a PipelineRun's tasks mounts its API token",
    "SEC-SA-RIGHTS": "the default account of a PipelineRun's tasks may change cluster objects",
    "TRIG-BRANCH-FILTER": "an EventListener trigger does not filter on the pushed branch",
    "SEC-SIGNING-KEY": "a Pipeline task other than package binds the release-signing key",
}
READ_ONLY = {"get", "list", "watch"}
# The Task workspace the package step signs releases with, and that step's name.
SIGNING_KEY = "signing-key"
PACKAGE_STEP = "package"
SECCOMP_TYPES = {"RuntimeDefault", "Localhost"}


def _mapping(node) -> dict:
    return node if isinstance(node, dict) else {}


def _list(node) -> list:
    return [item for item in node if isinstance(item, dict)] if isinstance(node, list) else []


def _seccomp(context: dict) -> str | None:
    return _mapping(_mapping(context.get("securityContext")).get("seccompProfile")).get("type")


def seccomp(tree: Tree):
    """SEC-SECCOMP: every step has a seccomp profile, its own or the stepTemplate's."""
    for document, obj in tree.objects():
        for spec in task_specs(obj):
            default = _seccomp(_mapping(spec.get("stepTemplate")))
            for step in _list(spec.get("steps")) + _list(spec.get("sidecars")):
                if (_seccomp(step) or default) not in SECCOMP_TYPES:
                    name = step.get("name", "?")
                    message = f"step {name!r} has no seccompProfile RuntimeDefault (set it in stepTemplate)"
                    yield Finding(document.path, line_of(step), "SEC-SECCOMP", message)


def timeouts(tree: Tree):
    """TKN-TIMEOUT: every task and finally task of a Pipeline sets a timeout."""
    for document, obj in tree.objects():
        if obj.get("kind") != "Pipeline":
            continue
        spec = _mapping(obj.get("spec"))
        for task in _list(spec.get("tasks")) + _list(spec.get("finally")):
            if not task.get("timeout"):
                message = f"task {task.get('name', '?')!r} has no timeout (e.g. timeout: 30m)"
                yield Finding(document.path, line_of(task), "TKN-TIMEOUT", message)


def _pipeline_runs(obj: dict):
    """Every PipelineRun in an object: itself, or those a TriggerTemplate creates."""
    if obj.get("kind") == "PipelineRun":
        yield obj
    elif obj.get("kind") == "TriggerTemplate":
        for resource in _list(_mapping(obj.get("spec")).get("resourcetemplates")):
            if resource.get("kind") == "PipelineRun":
                yield resource


def _writers(tree: Tree) -> set[str]:
    """ServiceAccounts bound (in this tree) to a Role or ClusterRole that may write."""
    roles = {}
    for _, obj in tree.objects():
        if obj.get("kind") in ("Role", "ClusterRole"):
            verbs = {v for rule in _list(obj.get("rules")) for v in rule.get("verbs") or []}
            roles[(obj["kind"], _mapping(obj.get("metadata")).get("name"))] = bool(verbs - READ_ONLY)
    writers = set()
    for _, obj in tree.objects():
        if obj.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
            ref = _mapping(obj.get("roleRef"))
            if roles.get((ref.get("kind"), ref.get("name"))):
                writers |= {
                    s.get("name") for s in _list(obj.get("subjects")) if s.get("kind") == "ServiceAccount"
                }
    return writers


def default_accounts(tree: Tree):
    """SEC-SA-TOKEN and SEC-SA-RIGHTS: a PipelineRun's default account is token-less and read-only."""
    accounts = {
        _mapping(obj.get("metadata")).get("name"): obj
        for _, obj in tree.objects()
        if obj.get("kind") == "ServiceAccount"
    }
    writers = _writers(tree)
    for document, obj in tree.objects():
        for run in _pipeline_runs(obj):
            template = _mapping(_mapping(run.get("spec")).get("taskRunTemplate"))
            name = template.get("serviceAccountName")
            if not isinstance(name, str):
                continue
            line = value_line(template, "serviceAccountName")
            account = accounts.get(name)
            if account is not None and account.get("automountServiceAccountToken") is not False:
                message = (
                    f"{name} mounts its API token into every task: set automountServiceAccountToken: false"
                )
                yield Finding(document.path, line, "SEC-SA-TOKEN", message)
            if name in writers:
                message = (
                    f"{name}, the account of every task, may change cluster objects: "
                    "give write rights to the deploy task's own account (taskRunSpecs)"
                )
                yield Finding(document.path, line, "SEC-SA-RIGHTS", message)


def branch_filters(tree: Tree):
    """TRIG-BRANCH-FILTER: every EventListener trigger has a CEL filter on the pushed ref."""
    for document, obj in tree.objects():
        if obj.get("kind") != "EventListener":
            continue
        for trigger in _list(_mapping(obj.get("spec")).get("triggers")):
            filters = [
                str(param.get("value", ""))
                for interceptor in _list(trigger.get("interceptors"))
                if _mapping(interceptor.get("ref")).get("name") == "cel"
                for param in _list(interceptor.get("params"))
                if param.get("name") == "filter"
            ]
            if not any("ref" in text for text in filters):
                message = (
                    f"trigger {trigger.get('name', '?')!r} runs for any branch: add a CEL filter on body.ref"
                )
                yield Finding(document.path, line_of(trigger), "TRIG-BRANCH-FILTER", message)


def _is_package(task: dict) -> bool:
    """Whether a pipeline task is the package step: its `step` param (ml-step), else its name."""
    params = {p.get("name"): p.get("value") for p in _list(task.get("params"))}
    return params.get("step", task.get("name")) == PACKAGE_STEP


def _bindings(spec: dict):
    """(task, binding, Pipeline workspace) for every workspace binding of a Pipeline's tasks."""
    for task in _list(spec.get("tasks")) + _list(spec.get("finally")):
        for binding in _list(task.get("workspaces")):
            yield task, binding, binding.get("workspace", binding.get("name"))


def _key_workspaces(spec: dict) -> set:
    """The Pipeline workspaces holding the key: `signing-key`, and what package binds to its `signing-key`."""
    keys = {ws.get("name") for ws in _list(spec.get("workspaces")) if ws.get("name") == SIGNING_KEY}
    return keys | {
        source
        for task, binding, source in _bindings(spec)
        if binding.get("name") == SIGNING_KEY and _is_package(task)
    }


def _secret(binding: dict):
    return _mapping(binding.get("secret")).get("secretName")


def signing_key(tree: Tree):
    """SEC-SIGNING-KEY: only the package step binds the workspace holding the release-signing key.

    The key's Pipeline workspace is found by name (see `_key_workspaces`) and by
    what backs it: a run (PipelineRun, or one a TriggerTemplate creates) that
    gives another Pipeline workspace the same Secret hands over the same key.
    """
    index = Index(tree)
    pipelines = []  # (document, Pipeline spec, its runs' workspace bindings)
    by_spec: dict[int, list] = {}
    for document, obj in tree.objects():
        if obj.get("kind") == "Pipeline":
            spec = _mapping(obj.get("spec"))
            pipelines.append((document, spec, []))
            by_spec[id(spec)] = pipelines[-1][2]
    for document, obj in tree.objects():
        for run in _pipeline_runs(obj):
            spec = _mapping(run.get("spec"))
            if isinstance(spec.get("pipelineSpec"), dict):
                pipelines.append((document, spec["pipelineSpec"], _list(spec.get("workspaces"))))
                continue
            name = _mapping(spec.get("pipelineRef")).get("name")
            target = index.find("pipelines", name, document.path) if isinstance(name, str) else None
            if target:
                by_spec.get(id(target), []).extend(_list(spec.get("workspaces")))
    keys = {id(spec): _key_workspaces(spec) for _, spec, _ in pipelines}
    secrets = {
        _secret(binding)
        for _, spec, runs in pipelines
        for binding in runs
        if binding.get("name") in keys[id(spec)] and _secret(binding)
    }
    for document, spec, runs in pipelines:
        held = keys[id(spec)] | {b.get("name") for b in runs if _secret(b) and _secret(b) in secrets}
        for task, binding, source in _bindings(spec):
            if source in held and not _is_package(task):
                line = value_line(binding, "workspace" if "workspace" in binding else "name")
                message = (
                    f"task {task.get('name', '?')!r} binds {source!r}, the release-signing key: "
                    f"bind it to the {PACKAGE_STEP} step alone"
                )
                yield Finding(document.path, line, "SEC-SIGNING-KEY", message)


def hardening(tree: Tree):
    yield from seccomp(tree)
    yield from timeouts(tree)
    yield from default_accounts(tree)
    yield from branch_filters(tree)
    yield from signing_key(tree)
