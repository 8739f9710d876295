"""Kubernetes objects: apiVersion, kind and a DNS-1123 name."""

import re

from .findings import Finding
from .loader import Tree, line_of

RULE_IDS = {
    "K8S-APIVERSION": "a Kubernetes manifest has no apiVersion (or not a string)",
    "K8S-KIND": "a Kubernetes manifest has no kind (or not a string)",
    "K8S-NAME": "a Kubernetes object has no metadata.name, or it is not a DNS-1123 name",
}

DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Folders that hold only Kubernetes manifests: every document there is an object.
MANIFEST_DIRS = {"tekton", "deploy", "k8s", "kubernetes", "manifests"}
KUSTOMIZE_FILES = {"kustomization.yaml", "kustomization.yml", "Kustomization"}
# Tool configuration that borrows apiVersion/kind but is no API object with a name.
NAMELESS_API_PREFIXES = ("kustomize.config.k8s.io/", "kind.x-k8s.io/", "skaffold/")


def _is_manifest(path: str) -> bool:
    parts = path.split("/")
    return parts[0] in MANIFEST_DIRS and parts[-1] not in KUSTOMIZE_FILES


def kubernetes_types(tree: Tree):
    """K8S-APIVERSION / K8S-KIND: objects say what they are."""
    for document in tree.documents:
        data = document.data
        if not isinstance(data, dict):
            if _is_manifest(document.path):
                line = getattr(data, "line", 1)
                yield Finding(
                    document.path, line, "K8S-KIND", "this document is not a Kubernetes object (a mapping)"
                )
            continue
        if not ("kind" in data or "apiVersion" in data or _is_manifest(document.path)):
            continue
        for key, rule in (("apiVersion", "K8S-APIVERSION"), ("kind", "K8S-KIND")):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                where = line_of(data, key) if key in data else line_of(data)
                yield Finding(document.path, where, rule, f"the object needs a {key} (a non-empty string)")


def kubernetes_names(tree: Tree):
    """K8S-NAME: every Kubernetes object has a DNS-1123 metadata.name (or generateName)."""
    for document, obj in tree.objects():
        api, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api, str) or api.startswith(NAMELESS_API_PREFIXES) or kind in ("Config", "List"):
            continue
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            yield Finding(document.path, line_of(obj, "kind"), "K8S-NAME", f"{kind} has no metadata")
            continue
        key = "name" if "name" in metadata else "generateName"
        name = metadata.get(key)
        if not isinstance(name, str) or not name:
            yield Finding(document.path, line_of(metadata), "K8S-NAME", f"{kind} has no metadata.name")
        elif len(name) > 253 or not DNS_1123_SUBDOMAIN.match(
            name.rstrip("-") if key == "generateName" else name
        ):
            yield Finding(
                document.path,
                line_of(metadata, key),
                "K8S-NAME",
                f"{kind} name {name!r} is not a DNS-1123 name (lowercase letters, digits, '-', '.')",
            )
