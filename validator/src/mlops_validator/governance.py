"""governance/policy.yaml loads with the project's own policy loader.

The validator keeps no copy of the policy schema: it imports the project's
`governance/policy.py` from `src/` and calls its `load_policy()`. Each problem
the loader reports (`exc.problems`: location, message) becomes one finding at
the line of that key. When the project cannot be imported here (the hook runs
with only cookiecutter's packages), the check is skipped with a note; the
project's `make validate` runs it with the project installed.
"""

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .findings import Finding
from .loader import Tree, line_of

RULE_IDS = {
    "GOV-POLICY": "governance/policy.yaml does not load with the project's own policy loader",
}

POLICY = "governance/policy.yaml"
PARAMS = "params.yaml"
PARAMS_KEYS = ("target", "sensitive_features", "exclude", "positive_label")


def _package_of(root: Path) -> str | None:
    loaders = sorted((root / "src").glob("*/governance/policy.py"))
    return loaders[0].parents[1].name if loaders else None


@contextmanager
def _project_imported(root: Path, package: str) -> Iterator[None]:
    """Import from `root/src` in isolation: a package of the same name imported before is set aside.

    No bytecode is written: checking a project leaves no `__pycache__` in it (a fresh bake
    would otherwise ship the hook's)."""
    mine = [name for name in sys.modules if name == package or name.startswith(package + ".")]
    aside = {name: sys.modules.pop(name) for name in mine}
    path, writes_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.path.insert(0, str(root / "src"))
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.path[:], sys.dont_write_bytecode = path, writes_bytecode
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        sys.modules.update(aside)


def _line_for(policy: object, location: tuple) -> int:
    """The line of the deepest key of `location` that exists in the parsed policy."""
    node, line = policy, line_of(policy)
    for part in location:
        if isinstance(node, dict) and part in node:
            line, node = line_of(node, part), node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = line_of(node) if hasattr(node, "line") else line
        else:
            break
    return line


def governance_policy(tree: Tree):
    """GOV-POLICY: the governance policy loads with the project's load_policy()."""
    documents = [document for document in tree.documents if document.path == POLICY]
    package = _package_of(tree.root)
    if not documents or package is None:
        return []  # absent, or unparsable (YAML-PARSE said so already), or no project loader
    with _project_imported(tree.root, package):
        try:
            module = importlib.import_module(f"{package}.governance.policy")
        except ImportError as exc:
            tree.notes.append(f"{POLICY}: not checked: the project's policy loader needs {exc.name or exc}")
            return []
        try:
            policy = module.load_policy(tree.root / POLICY)
        except Exception as exc:  # noqa: BLE001 - the project's error type is not ours to import
            problems = getattr(exc, "problems", None) or [((), str(exc))]
            return [
                Finding(POLICY, _line_for(documents[0].data, tuple(loc)), "GOV-POLICY", message)
                for loc, message in problems
            ]
        return _disagreements(tree, package, module, policy, documents[0].data)
    return []


def _disagreements(tree: Tree, package: str, module, policy, policy_data) -> list[Finding]:
    """Where params.yaml and the policy disagree, through the project's own `mismatches()`,
    each at the line of the key it names."""
    mismatches = getattr(module, "mismatches", None)
    params = [document for document in tree.documents if document.path == PARAMS]
    if mismatches is None or not params:
        return []
    try:
        settings = importlib.import_module(f"{package}.settings").load_settings(tree.root / PARAMS)
    except Exception:  # noqa: BLE001 - a broken params.yaml is every step's error, not this rule's
        return []
    findings = []
    for problem in mismatches(policy, settings.data):
        if problem.startswith("policy fairness.attributes"):
            line = _line_for(policy_data, ("fairness", "attributes"))
            findings.append(Finding(POLICY, line, "GOV-POLICY", problem))
            continue
        key = next((k for k in PARAMS_KEYS if f"data.{k} " in problem), None)
        line = _line_for(params[0].data, ("data", key)) if key else 1
        findings.append(Finding(PARAMS, line, "GOV-POLICY", problem))
    return findings
