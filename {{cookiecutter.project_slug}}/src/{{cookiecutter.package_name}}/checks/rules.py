"""The rules. Each takes the loaded tree and yields findings."""

import re

from {{ cookiecutter.package_name }}.checks.findings import Finding
from {{ cookiecutter.package_name }}.checks.loader import Tree, line_of

DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def python_compiles(tree: Tree):
    """PY-COMPILE: every Python file is valid syntax."""
    for path in tree.python_files:
        rel = path.relative_to(tree.root).as_posix()
        try:
            compile(path.read_bytes(), rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            yield Finding(rel, exc.lineno or 1, "PY-COMPILE", f"syntax error: {exc.msg}")
        except ValueError as exc:  # e.g. a NUL byte
            yield Finding(rel, 1, "PY-COMPILE", f"not compilable: {exc}")


def kubernetes_metadata(tree: Tree):
    """K8S-NAME: every Kubernetes object has a DNS-1123 metadata.name (or generateName)."""
    for document, obj in tree.objects():
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            yield Finding(document.path, line_of(obj, "kind"), "K8S-NAME", f"{obj['kind']} has no metadata")
            continue
        name = metadata.get("name", metadata.get("generateName"))
        key = "name" if "name" in metadata else "generateName"
        if not isinstance(name, str) or not name:
            yield Finding(document.path, line_of(metadata), "K8S-NAME", f"{obj['kind']} has no metadata.name")
        elif len(name) > 253 or not DNS_1123_SUBDOMAIN.match(
            name.rstrip("-") if key == "generateName" else name
        ):
            yield Finding(
                document.path,
                line_of(metadata, key),
                "K8S-NAME",
                f"{obj['kind']} name {name!r} is not a DNS-1123 name (lowercase, digits, '-', '.')",
            )


RULES = (python_compiles, kubernetes_metadata)
