"""Load a repository's YAML and Python files once, keeping line numbers."""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.checks.findings import Finding

SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    "artifacts",
    "mlruns",
    ".dvc",
    "build",
    "dist",
}


class LineDict(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict


class LineList(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            self.construct_object(key, deep=True): key.start_mark.line + 1 for key, _ in node.value
        }
        return mapping

    def construct_sequence(self, node, deep=False):
        sequence = LineList(super().construct_sequence(node, deep=True))
        sequence.line = node.start_mark.line + 1
        return sequence


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def line_of(node: object, key: object = None) -> int:
    """The line of `key` inside `node`, or of `node` itself; 1 when unknown."""
    if key is not None and isinstance(node, LineDict) and key in node.key_lines:
        return node.key_lines[key]
    return getattr(node, "line", 0) or 1


@dataclass
class Document:
    path: str  # relative to the repository root, with '/'
    data: object


@dataclass
class Tree:
    root: Path
    documents: list[Document] = field(default_factory=list)
    python_files: list[Path] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)

    def objects(self):
        """(document, mapping) for every YAML document that is a Kubernetes object."""
        for document in self.documents:
            if isinstance(document.data, dict) and "kind" in document.data and "apiVersion" in document.data:
                yield document, document.data


def load_tree(root: Path) -> Tree:
    """Walk `root`; parse every YAML file (YAML-PARSE findings for those that fail)."""
    tree = Tree(root)
    for path in sorted(_walk(root)):
        rel = path.relative_to(root).as_posix()
        tree.files.add(rel)
        if path.suffix in (".yaml", ".yml"):
            _load_yaml(tree, path, rel)
        elif path.suffix == ".py":
            tree.python_files.append(path)
    return tree


def _walk(root: Path):
    for entry in root.iterdir():
        if entry.is_dir():
            if entry.name not in SKIP_DIRS and not entry.name.endswith(".egg-info"):
                yield from _walk(entry)
        elif entry.is_file():
            yield entry


def _load_yaml(tree: Tree, path: Path, rel: str) -> None:
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        tree.findings.append(Finding(rel, line, "YAML-PARSE", f"not valid YAML: {exc.problem or exc}"))
        return
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        tree.findings.append(Finding(rel, 1, "YAML-PARSE", f"not valid YAML: {exc}"))
        return
    tree.documents.extend(Document(rel, data) for data in docs if data is not None)
