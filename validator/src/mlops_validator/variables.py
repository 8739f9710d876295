"""Tekton variable references, `$(params.x)` and friends, found in strings.

Shell command substitution looks the same (`$(date +%s)`), so only the
namespaces Tekton itself substitutes are reported; anything else is left alone.
"""

import re
from dataclasses import dataclass

from .loader import LineStr

NAMESPACES = {"params", "workspaces", "results", "tasks", "tt", "context", "steps", "step"}
_REFERENCE = re.compile(
    r"\$\(([A-Za-z_][A-Za-z0-9_-]*)((?:\.[^.\[\]()\s]+|\[(?:'[^']*'|\"[^\"]*\"|[^\]'\"]*)\])*)\)"
)
_PART = re.compile(r"\.([^.\[\]()\s]+)|\[(?:'([^']*)'|\"([^\"]*)\"|([^\]'\"]*))\]")


@dataclass(frozen=True)
class Reference:
    """One `$(namespace.part.part...)`; index parts such as `[*]` are left out."""

    namespace: str
    parts: tuple[str, ...]
    text: str
    line: int


def references(text: str, line: int = 0):
    """Every Tekton reference in `text`, with the file line it sits on."""
    if "$(" not in text:
        return
    for match in _REFERENCE.finditer(text):
        namespace = match.group(1)
        if namespace not in NAMESPACES:
            continue
        parts = []
        for part in _PART.finditer(match.group(2)):
            dotted, single, double, index = part.groups()
            if dotted is not None:
                parts.append(dotted)
            elif single is not None or double is not None:
                parts.append(single if single is not None else double)
            elif not (index == "*" or index.isdigit()):
                parts.append(index)
        at = text.line_at(match.start()) if isinstance(text, LineStr) else getattr(text, "line", line) or line
        yield Reference(namespace, tuple(parts), match.group(0), at or 1)


def strings(node, skip=("description",)):
    """Every string value under `node`, skipping the subtrees under keys in `skip`."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "$(" in item:
                yield item
        elif isinstance(item, dict):
            stack.extend(value for key, value in item.items() if key not in skip)
        elif isinstance(item, list):
            stack.extend(item)


def references_under(node, skip=("description",)):
    """Every Tekton reference in the strings under `node`."""
    for text in strings(node, skip):
        yield from references(text)
