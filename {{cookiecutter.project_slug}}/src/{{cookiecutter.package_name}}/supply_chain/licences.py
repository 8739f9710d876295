"""Check an SBOM's licences against the policy's allowlist.

An SPDX expression is allowed when it can be satisfied with allowed licences:
`A OR B` needs one of them, `A AND B` needs both, `A WITH exception` needs A.
Names (from classifiers such as "BSD License") match allowlist entries by name.
"""

import re
from dataclasses import dataclass

TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True)
class Finding:
    component: str  # name==version
    licence: str  # what the SBOM declares, or "unknown"

    def __str__(self) -> str:
        return f"{self.component} ({self.licence})"


def _satisfied(expression: str, allowed: set[str]) -> bool:
    tokens = TOKEN.findall(expression)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def term() -> bool:
        word = take() if peek() is not None else ""
        if word == "(":
            value = disjunction()
            if peek() == ")":
                take()
            return value
        value = word.lower().rstrip("+") in allowed or word.lower() in allowed
        if peek() and peek().upper() == "WITH":
            take()
            take() if peek() is not None else None
        return value

    def conjunction() -> bool:
        value = term()
        while peek() and peek().upper() == "AND":
            take()
            value = term() and value
        return value

    def disjunction() -> bool:
        value = conjunction()
        while peek() and peek().upper() == "OR":
            take()
            value = conjunction() or value
        return value

    return bool(tokens) and disjunction()


def _declared(choice: dict) -> str:
    if "expression" in choice:
        return choice["expression"]
    licence = choice.get("license", {})
    return licence.get("id") or licence.get("name") or "unknown"


def not_allowed(
    sbom: dict, allowed: tuple[str, ...], exceptions: tuple[str, ...], allow_unknown: bool
) -> list[Finding]:
    """The SBOM's components whose licences the allowlist does not cover (exceptions skipped)."""
    allowed_set = {entry.lower() for entry in allowed}
    excepted = {re.sub(r"[-_.]+", "-", name).lower() for name in exceptions}
    findings = []
    for component in sbom.get("components", []):
        if re.sub(r"[-_.]+", "-", component["name"]).lower() in excepted:
            continue
        who = f"{component['name']}=={component.get('version', '?')}"
        declared = [_declared(choice) for choice in component.get("licenses", [])]
        if not declared:
            if not allow_unknown:
                findings.append(Finding(who, "unknown"))
            continue
        # Several entries (one per classifier) mean the author offers each: one allowed is enough.
        if not any(
            name.lower() in allowed_set or _satisfied(name, allowed_set)
            for name in declared
            if name != "unknown"
        ):
            findings.append(Finding(who, " / ".join(declared)))
    return findings
