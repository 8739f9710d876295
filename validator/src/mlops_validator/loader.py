"""Load a repository's YAML, Python and text files once, keeping line numbers.

Every mapping, sequence and string that comes out of a YAML file remembers the
line it came from, so a rule can point at the exact key or value it objects to.
"""

import copy
import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .findings import Finding

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
    ".pytest_cache",
    ".ruff_cache",
}

# libyaml parses about ten times faster; the pure-Python parser gives the same nodes.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict


class LineList(list):
    """A YAML sequence that remembers its line."""

    line: int = 0


class LineStr(str):
    """A YAML string that remembers where its text starts.

    `line` is the first line of the text itself: for a block scalar (`|` or `>`)
    that is the line after the indicator. `literal` is true for `|` blocks, whose
    line breaks are kept, so an offset in the text maps to a line in the file.
    """

    line: int = 0
    literal: bool = False

    def line_at(self, offset: int) -> int:
        """The file line of the character at `offset` in this string."""
        return self.line + (self.count("\n", 0, offset) if self.literal else 0)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Loader(_BaseLoader):
    """A safe loader that builds LineDict/LineList/LineStr and records duplicate keys.

    Plain mappings, sequences and strings are built directly from the nodes,
    which is several times faster than PyYAML's generic construction; every
    other tag (ints, booleans, timestamps...) goes through the safe constructor.
    """

    duplicates: list
    _resolved: dict = {}  # implicit tag resolution, shared: the same words recur in every file

    def resolve(self, kind, value, implicit):
        key = (kind, value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 50_000:
                self._resolved[key] = tag
        return tag

    def construct_document(self, node):
        self._built: dict = {}
        self._building: set = set()
        try:
            return self._build(node)
        finally:
            self._built = {}
            self.constructed_objects = {}

    def _build(self, node):
        built = self._built.get(node)
        if built is not None:
            return built  # an alias of a node already built
        if node in self._building:
            raise yaml.constructor.ConstructorError(None, None, "found a recursive alias", node.start_mark)
        self._building.add(node)
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            value = LineStr(node.value)
            block = node.style in ("|", ">")
            value.line = node.start_mark.line + 1 + block
            value.literal = node.style == "|"
        elif tag == _MAP and isinstance(node, yaml.MappingNode):
            value = self._build_mapping(node)
        elif tag == _SEQ and isinstance(node, yaml.SequenceNode):
            value = LineList(self._build(child) for child in node.value)
            value.line = node.start_mark.line + 1
        elif tag not in self.yaml_constructors and not tag.startswith("tag:yaml.org,2002:"):
            # A tool's own tag (GitLab's `!reference [...]`): read what is under it.
            plain = copy.copy(node)
            plain.tag = {yaml.ScalarNode: _STR, yaml.MappingNode: _MAP, yaml.SequenceNode: _SEQ}[type(node)]
            value = self._build(plain)
        else:
            value = self.construct_object(node, deep=True)
        self._building.discard(node)
        self._built[node] = value
        return value

    def _build_mapping(self, node) -> LineDict:
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)  # merge keys (<<) go first; the mapping's own keys override them
        merged = len(node.value) - own
        own_keys: set = set()
        for position, (key_node, value_node) in enumerate(node.value):
            key = self._build(key_node)
            try:
                hash(key)
            except TypeError:
                problem = "found an unhashable key"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark) from None
            line = key_node.start_mark.line + 1
            if position >= merged:
                if key in own_keys:
                    self.duplicates.append((key, line, mapping.key_lines[key]))
                own_keys.add(key)
            mapping.key_lines[key] = line
            mapping[key] = self._build(value_node)
        return mapping


def line_of(node: object, key: object = None) -> int:
    """The line of `key` inside `node`, or of `node` itself; 1 when unknown."""
    if key is not None and isinstance(node, LineDict) and key in node.key_lines:
        return node.key_lines[key]
    return getattr(node, "line", 0) or 1


def value_line(node: object, key: object) -> int:
    """The line of the value under `key` (where its text starts), else of the key."""
    value = node.get(key) if isinstance(node, dict) else None
    return getattr(value, "line", 0) or line_of(node, key)


@dataclass
class Document:
    path: str  # relative to the repository root, with '/'
    data: object
    index: int = 0  # position in a multi-document file


@dataclass
class Tree:
    root: Path
    documents: list[Document] = field(default_factory=list)
    python_files: list[Path] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    def objects(self):
        """(document, mapping) for every YAML document that is a Kubernetes object."""
        for document in self.documents:
            if isinstance(document.data, dict) and "kind" in document.data and "apiVersion" in document.data:
                yield document, document.data

    def exists(self, rel: str) -> bool:
        """Whether `rel` (relative, '/'-separated) is a file or folder in the tree."""
        rel = rel.strip("/")
        return rel in self.files or rel in self.dirs or (self.root / rel).exists()

    def text(self, rel: str) -> str | None:
        """The text of a file in the tree, or None when it cannot be read."""
        try:
            return (self.root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector while a tree is loaded and checked.

    Parsed YAML holds no reference cycles (reference counting frees it), but it
    is hundreds of thousands of objects that the collector would otherwise
    rescan again and again: over half the time on a large repository.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def load_tree(root: Path) -> Tree:
    """Walk `root`; parse every YAML file (YAML-PARSE findings for those that fail)."""
    tree = Tree(root)
    with collector_paused():
        for path in sorted(_walk(root, tree, root)):
            rel = path.relative_to(root).as_posix()
            tree.files.add(rel)
            if path.suffix in (".yaml", ".yml"):
                _load_yaml(tree, path, rel)
            elif path.suffix == ".py":
                tree.python_files.append(path)
    return tree


def _walk(directory: Path, tree: Tree, root: Path):
    for entry in directory.iterdir():
        if entry.is_dir():
            if entry.name not in SKIP_DIRS and not entry.name.endswith(".egg-info"):
                tree.dirs.add(entry.relative_to(root).as_posix())
                yield from _walk(entry, tree, root)
        elif entry.is_file():
            yield entry


def parse_yaml(text: str) -> tuple[list, list[tuple[object, int, int]]]:
    """The documents in `text`, and the duplicate keys found as (key, line, first line)."""
    loader = _Loader(text)
    loader.duplicates = []
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents, loader.duplicates
    finally:
        loader.dispose()


def _load_yaml(tree: Tree, path: Path, rel: str) -> None:
    try:
        docs, duplicates = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        tree.findings.append(Finding(rel, line, "YAML-PARSE", f"not valid YAML: {exc.problem or exc}"))
        return
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        tree.findings.append(Finding(rel, 1, "YAML-PARSE", f"not valid YAML: {exc}"))
        return
    for key, line, first in duplicates:
        tree.findings.append(
            Finding(rel, line, "YAML-DUPLICATE-KEY", f"key {key!r} appears again (first on line {first})")
        )
    tree.documents.extend(Document(rel, data, index) for index, data in enumerate(docs) if data is not None)
