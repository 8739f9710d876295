"""Security rules for Tekton steps, Kubernetes containers and RBAC."""

from .findings import Finding
from .loader import Tree, line_of, value_line
from .tekton import is_tekton
from .variables import references

RULE_IDS = {
    "SEC-SCRIPT-INJECTION": "a step script holds `$(params.x)`, `$(tt.params.x)` or `$(workspaces.x)` inline",
    "SEC-RUN-AS-NON-ROOT": "a Tekton step or sidecar may run as root (no runAsNonRoot / non-zero runAsUser)",
    "SEC-PRIVILEGED": "a container is privileged or allows privilege escalation",
    "SEC-IMAGE-PIN": "a container image has no tag, or the tag is `latest`",
    "SEC-RBAC-WILDCARD": "an RBAC rule grants `*` in verbs, resources or apiGroups",
}

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
RBAC_FIELDS = ("apiGroups", "resources", "verbs")


def _mapping(node) -> dict:
    return node if isinstance(node, dict) else {}


def _list(node) -> list:
    return [item for item in node if isinstance(item, dict)] if isinstance(node, list) else []


def task_specs(obj: dict):
    """Every Task spec inside a Tekton object: its own, embedded ones, and those in templates."""
    kind, spec = obj.get("kind"), _mapping(obj.get("spec"))
    if kind in ("Task", "ClusterTask"):
        yield spec
    elif kind == "TaskRun":
        if isinstance(spec.get("taskSpec"), dict):
            yield spec["taskSpec"]
    elif kind == "Pipeline":
        yield from _pipeline_task_specs(spec)
    elif kind == "PipelineRun":
        yield from _pipeline_task_specs(_mapping(spec.get("pipelineSpec")))
    elif kind == "TriggerTemplate":
        for resource in _list(spec.get("resourcetemplates")):
            yield from task_specs(resource)


def _pipeline_task_specs(spec: dict):
    for task in _list(spec.get("tasks")) + _list(spec.get("finally")):
        embedded = task.get("taskSpec")
        if isinstance(embedded, dict) and "apiVersion" not in embedded:
            yield embedded
        if isinstance(task.get("pipelineSpec"), dict):
            yield from _pipeline_task_specs(task["pipelineSpec"])


def pod_spec(obj: dict) -> dict | None:
    """The pod spec of a Kubernetes workload, if it is one."""
    kind, spec = obj.get("kind"), _mapping(obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind in POD_TEMPLATE_KINDS:
        return _mapping(_mapping(spec.get("template")).get("spec"))
    if kind == "CronJob":
        job = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
        return _mapping(_mapping(job.get("template")).get("spec"))
    return None


class Checker:
    def __init__(self, path: str):
        self.path = path
        self.findings: list[Finding] = []

    def add(self, line: int, rule: str, message: str) -> None:
        self.findings.append(Finding(self.path, line or 1, rule, message))

    def script(self, step: dict, label: str) -> None:
        script = step.get("script")
        if not isinstance(script, str):
            return
        for ref in references(script, line_of(step, "script")):
            if ref.namespace in ("params", "workspaces") or (
                ref.namespace == "tt" and ref.parts[:1] == ("params",)
            ):
                self.add(
                    ref.line,
                    "SEC-SCRIPT-INJECTION",
                    f'{label}: {ref.text} inline in script; pass it through env and quote "$VAR"',
                )

    def privileges(self, container: dict, label: str) -> None:
        context = _mapping(container.get("securityContext"))
        for key in ("privileged", "allowPrivilegeEscalation"):
            if context.get(key) is True:
                self.add(line_of(context, key), "SEC-PRIVILEGED", f"{label}: securityContext.{key} is true")

    def image(self, container: dict, label: str) -> None:
        image = container.get("image")
        if not isinstance(image, str) or "$(" in image or "@" in image:
            return  # a variable, or pinned by digest
        name = image.rsplit("/", 1)[-1]
        tag = name.partition(":")[2]
        if not tag or tag == "latest":
            self.add(
                value_line(container, "image"),
                "SEC-IMAGE-PIN",
                f"{label}: image {image!r} is not pinned; use a version tag or a digest",
            )

    def non_root(self, container: dict, template: dict, label: str) -> None:
        own = _mapping(container.get("securityContext"))
        inherited = _mapping(template.get("securityContext"))
        non_root = own.get("runAsNonRoot", inherited.get("runAsNonRoot"))
        user = own.get("runAsUser", inherited.get("runAsUser"))
        if user == 0:
            where = own if "runAsUser" in own else inherited
            self.add(line_of(where, "runAsUser"), "SEC-RUN-AS-NON-ROOT", f"{label}: runAsUser is 0 (root)")
        elif non_root is not True and not (isinstance(user, int) and user > 0):
            self.add(
                value_line(container, "name") if "name" in container else line_of(container),
                "SEC-RUN-AS-NON-ROOT",
                f"{label}: set securityContext.runAsNonRoot: true (on the step or the stepTemplate)",
            )

    def task_spec(self, spec: dict) -> None:
        template = _mapping(spec.get("stepTemplate"))
        if template:
            self.privileges(template, "stepTemplate")
            if "image" in template:
                self.image(template, "stepTemplate")
        for section in ("steps", "sidecars"):
            for position, step in enumerate(_list(spec.get(section)), 1):
                label = f"{section[:-1]} {step.get('name') or position}"
                self.script(step, label)
                self.privileges(step, label)
                if "ref" not in step:
                    self.image(step, label)
                    self.non_root(step, template, label)

    def step_action(self, spec: dict) -> None:
        self.script(spec, "StepAction")
        self.privileges(spec, "StepAction")
        self.image(spec, "StepAction")

    def pod(self, spec: dict) -> None:
        for section in ("initContainers", "containers"):
            for container in _list(spec.get(section)):
                label = f"container {container.get('name')}"
                self.privileges(container, label)
                self.image(container, label)

    def rbac(self, obj: dict) -> None:
        for rule in _list(obj.get("rules")):
            for field in RBAC_FIELDS:
                values = rule.get(field)
                for value in values if isinstance(values, list) else []:
                    if value == "*":
                        self.add(
                            getattr(value, "line", 0) or line_of(rule, field),
                            "SEC-RBAC-WILDCARD",
                            f"{obj.get('kind')} {_mapping(obj.get('metadata')).get('name')}: '*' in {field}; "
                            "list what the role needs",
                        )


def security(tree: Tree):
    """SEC-*: scripts take no inline params, steps run as non-root, unprivileged, pinned; RBAC has no '*'."""
    for document, obj in tree.objects():
        checker = Checker(document.path)
        api = obj.get("apiVersion")
        if is_tekton(obj):
            if obj.get("kind") == "StepAction":
                checker.step_action(_mapping(obj.get("spec")))
            for spec in task_specs(obj):
                checker.task_spec(spec)
        elif isinstance(api, str) and api.startswith("rbac.authorization.k8s.io/"):
            if obj.get("kind") in ("Role", "ClusterRole"):
                checker.rbac(obj)
        else:
            spec = pod_spec(obj)
            if spec is not None:
                checker.pod(spec)
        yield from checker.findings
