"""The repository validator of projects baked from cookiecutter-mlops-reference.

One rule set for the template's post-generation hook, the project's
pre-commit hook, `make validate` and CI. Only the standard library and PyYAML
are used, so the hook runs it with what cookiecutter brings. Findings read
`file:line: RULE-ID: message`; RULES.md explains every rule.
"""

from dataclasses import dataclass, field
from pathlib import Path

from . import suppressions
from .findings import Finding
from .loader import collector_paused, load_tree
from .rules import RULE_IDS, RULES

__all__ = ["RULE_IDS", "Finding", "Report", "__version__", "check", "validate_tree"]
__version__ = "0.2.0"


@dataclass
class Report:
    findings: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why


def check(root: Path) -> Report:
    """Every finding in the repository at `root`, sorted by file and line, after inline suppressions."""
    with collector_paused():
        tree = load_tree(Path(root))
        findings = list(tree.findings)
        for rule in RULES:
            findings.extend(rule(tree))
        kept, silenced = suppressions.apply(tree, sorted(set(findings)))
        return Report(sorted(set(kept)), sorted(set(silenced)), tree.notes)


def validate_tree(root: Path) -> list[Finding]:
    """The findings of `check(root)`."""
    return check(root).findings
