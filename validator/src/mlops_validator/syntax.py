"""Files parse: YAML (with no key given twice) and Python."""

from .findings import Finding
from .loader import Tree

# YAML-PARSE and YAML-DUPLICATE-KEY are found while loading (checks/loader.py).
RULE_IDS = {
    "YAML-PARSE": "a YAML file does not parse",
    "YAML-DUPLICATE-KEY": "a YAML mapping has the same key twice (the first is silently lost)",
    "PY-COMPILE": "a Python file has a syntax error",
}


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
