"""The repository validator: one rule set for the cookiecutter hook and for CI.

Only the standard library and PyYAML are used here, so the post-generation
hook can run it straight from a freshly baked tree. Findings read
`file:line: RULE-ID: message`; docs/validation-rules.md explains every rule.
"""

from pathlib import Path

from ..checks.findings import Finding
from ..checks.loader import collector_paused, load_tree
from ..checks.rules import RULE_IDS, RULES

__all__ = ["RULE_IDS", "Finding", "validate_tree"]


def validate_tree(root: Path) -> list[Finding]:
    """Every finding in the repository at `root`, sorted by file and line."""
    with collector_paused():
        tree = load_tree(Path(root))
        findings = list(tree.findings)
        for rule in RULES:
            findings.extend(rule(tree))
        return sorted(set(findings))
