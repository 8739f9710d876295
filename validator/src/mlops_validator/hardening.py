"""Cluster hardening: Pod Security "restricted" fields, least-privilege accounts, gated triggers.

What a platform team checks before it lets a pipeline into a shared cluster:
- every Tekton step runs under a seccomp profile (the "restricted" standard
  requires RuntimeDefault or Localhost);
- every task of a Pipeline has a timeout, so a stuck step cannot hold a node;
- the account a PipelineRun gives all its tasks by default mounts no API token
  and holds no write rights: deploy rights belong to an account given to the
  deploy task alone (taskRunSpecs);
- an EventListener trigger filters on the branch (a CEL interceptor over
  `body.ref`), so a push to any branch cannot release.
"""

from .findings import Finding
from .loader import Tree, line_of, value_line
from .security import task_specs

RULE_IDS = {
    "SEC-SECCOMP": "a Tekton step runs without a seccomp profile (RuntimeDefault or Localhost)",
    "TKN-TIMEOUT": "a Pipeline task has no timeout",
    "SEC-SA-TOKEN": "the default account of a PipelineRun's tasks mounts its API token",
    "SEC-SA-RIGHTS": "the default account of a PipelineRun's tasks may change cluster objects",
    "TRIG-BRANCH-FILTER": "an EventListener trigger does not filter on the pushed branch",
}
READ_ONLY = {"get", "list", "watch"}
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


def hardening(tree: Tree):
    yield from seccomp(tree)
    yield from timeouts(tree)
    yield from default_accounts(tree)
    yield from branch_filters(tree)
