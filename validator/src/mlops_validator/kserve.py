"""KServe InferenceServices: the predictor speaks v2, runs unprivileged and sized; canary in range."""

from .findings import Finding
from .loader import Tree, line_of, value_line

RULE_IDS = {
    "KSV-PROTOCOL": "an InferenceService predictor does not serve the Open Inference Protocol v2",
    "KSV-NON-ROOT": "an InferenceService predictor container may run as root or escalate privileges",
    "KSV-RESOURCES": "an InferenceService predictor has no cpu and memory requests and limits",
    "KSV-CANARY": "canaryTrafficPercent is not a whole number from 0 to 100",
}

# Predictor keys that name a built-in runtime (model format) rather than custom containers.
MODEL_KEYS = ("model", "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton", "onnx", "pmml")
COMPONENTS = ("predictor", "transformer", "explainer")


def _mapping(node) -> dict:
    return node if isinstance(node, dict) else {}


def _containers(component: dict) -> list[dict]:
    items = component.get("containers")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _protocol(path: str, predictor: dict) -> list[Finding]:
    for key in MODEL_KEYS:
        model = predictor.get(key)
        if isinstance(model, dict):
            if model.get("protocolVersion") != "v2":
                where = line_of(predictor, key)
                if "protocolVersion" in model:
                    where = value_line(model, "protocolVersion")
                return [Finding(path, where, "KSV-PROTOCOL", f"predictor.{key}: set protocolVersion: v2")]
            return []
    containers = _containers(predictor)
    if not containers:
        message = "the predictor has no model and no containers"
        return [Finding(path, line_of(predictor), "KSV-PROTOCOL", message)]
    # A custom predictor's protocol shows in its probes: v2 servers answer /v2/health/*.
    probe = _mapping(_mapping(containers[0].get("readinessProbe")).get("httpGet"))
    probe_path = probe.get("path")
    if not (isinstance(probe_path, str) and probe_path.startswith("/v2/health/")):
        where = value_line(probe, "path") if "path" in probe else line_of(containers[0])
        return [
            Finding(
                path,
                where,
                "KSV-PROTOCOL",
                "custom predictor: give it a readinessProbe on /v2/health/ready (a v2 server's endpoint)",
            )
        ]
    return []


def _security(path: str, container: dict, label: str) -> list[Finding]:
    context = _mapping(container.get("securityContext"))
    findings = []
    if context.get("runAsNonRoot") is not True or context.get("runAsUser") == 0:
        where = line_of(context, "runAsNonRoot") if "runAsNonRoot" in context else line_of(container)
        message = f"{label}: set securityContext.runAsNonRoot: true"
        findings.append(Finding(path, where, "KSV-NON-ROOT", message))
    if context.get("allowPrivilegeEscalation") is not False or context.get("privileged") is True:
        where = line_of(context, "allowPrivilegeEscalation") if context else line_of(container)
        message = f"{label}: set securityContext.allowPrivilegeEscalation: false"
        findings.append(Finding(path, where, "KSV-NON-ROOT", message))
    return findings


def _resources(path: str, holder: dict, label: str) -> list[Finding]:
    resources = _mapping(holder.get("resources"))
    missing = [
        f"{kind}.{name}"
        for kind in ("requests", "limits")
        for name in ("cpu", "memory")
        if name not in _mapping(resources.get(kind))
    ]
    if not missing:
        return []
    where = line_of(holder, "resources") if "resources" in holder else line_of(holder)
    return [Finding(path, where, "KSV-RESOURCES", f"{label}: resources lack {', '.join(missing)}")]


def kserve(tree: Tree):
    """KSV-*: each InferenceService predictor speaks v2, runs unprivileged and sized; canary in 0..100."""
    for document, obj in tree.objects():
        api = obj.get("apiVersion")
        if obj.get("kind") != "InferenceService" or not str(api).startswith("serving.kserve.io/"):
            continue
        spec = _mapping(obj.get("spec"))
        predictor = _mapping(spec.get("predictor"))
        yield from _protocol(document.path, predictor)
        for name in COMPONENTS:
            component = _mapping(spec.get(name))
            if "canaryTrafficPercent" in component:
                value = component["canaryTrafficPercent"]
                if not (type(value) is int and 0 <= value <= 100):
                    yield Finding(
                        document.path,
                        value_line(component, "canaryTrafficPercent"),
                        "KSV-CANARY",
                        f"{name}.canaryTrafficPercent is {value!r}; use a whole number from 0 to 100",
                    )
            for container in _containers(component):
                label = f"{name} container {container.get('name')}"
                yield from _security(document.path, container, label)
                yield from _resources(document.path, container, label)
            for key in MODEL_KEYS:
                if isinstance(component.get(key), dict):
                    yield from _resources(document.path, component[key], f"{name}.{key}")
