"""Inline suppressions: `# mlops-validate: ignore[RULE-ID, ...]`.

In YAML, Python, TOML and shell files and Makefiles, the comment silences the
named rules on its own line, or, when it stands on a line by itself, on the
next line. A suppression that silences nothing is
itself a finding (SUPPRESS-UNUSED), so stale ones do not pile up.
"""

import re

from .findings import Finding
from .loader import Tree

RULE_IDS = {"SUPPRESS-UNUSED": "an inline suppression names a rule that reports nothing there"}
# Files whose comments start with '#' (prose such as Markdown may quote the syntax).
COMMENTED = (".yaml", ".yml", ".py", ".toml", ".cfg", ".sh")
MARKER = re.compile(r"#\s*mlops-validate:\s*ignore\[([A-Z0-9_,\s-]+)\]")


def suppressions(tree: Tree, rels: set[str]) -> dict[tuple[str, int], set[str]]:
    """(file, line) -> rule ids suppressed there, for the files in `rels` that carry a marker."""
    found: dict[tuple[str, int], set[str]] = {}
    for rel in sorted(rels):
        text = tree.text(rel)
        if not text or "mlops-validate:" not in text:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = MARKER.search(line)
            if not match:
                continue
            rules = {rule.strip() for rule in match.group(1).split(",") if rule.strip()}
            target = number + 1 if line.lstrip().startswith("#") else number
            found.setdefault((rel, target), set()).update(rules)
            found[(rel, target)].add(f"@{number}")  # where the comment is, for SUPPRESS-UNUSED
    return found


def apply(tree: Tree, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(kept, suppressed): findings minus those an inline comment silences, plus unused comments."""
    commented = {rel for rel in tree.files if rel.endswith(COMMENTED) or rel.rsplit("/", 1)[-1] == "Makefile"}
    marks = suppressions(tree, commented)
    kept, silenced, used = [], [], set()
    for finding in findings:
        rules = marks.get((finding.path, finding.line), set())
        if finding.rule in rules:
            silenced.append(finding)
            used.add((finding.path, finding.line, finding.rule))
        else:
            kept.append(finding)
    for (rel, line), rules in marks.items():
        comment = next(int(r[1:]) for r in rules if r.startswith("@"))
        for rule in sorted(r for r in rules if not r.startswith("@")):
            if (rel, line, rule) not in used:
                message = f"ignore[{rule}] suppresses nothing on line {line}: remove it"
                kept.append(Finding(rel, comment, "SUPPRESS-UNUSED", message))
    return kept, silenced
