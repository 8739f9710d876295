"""Makefile, README and CI files refer only to files that are there.

Deliberately conservative: a word counts as a path only when it contains a `/`
and starts with a folder of the repository (or one a project like this one
usually has), and holds no variable, glob or URL syntax. Generated folders
(artifacts/, build/ ...) are never checked. Markdown links are checked too.
"""

import re

from .findings import Finding
from .loader import SKIP_DIRS, Tree

RULE_IDS = {
    "REF-PATH": "the Makefile, README.md or a CI file names a repository path that does not exist",
}

# Folders a project from this template has or had: naming one that is gone is a leftover.
KNOWN_DIRS = {"src", "tests", "docs", "tekton", "deploy", "governance", "scripts", ".github", "benchmarks"}
_WORD = re.compile(r"[^\s`\"'()\[\]<>,;=|]+")
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_NOT_A_PATH = set("$*{}<>?%@~:\\!#&")


def documents(tree: Tree) -> list[str]:
    """The files whose paths are checked: Makefile, README.md and the CI configuration."""
    names = ["Makefile", "README.md", ".gitlab-ci.yml"]
    names += sorted(
        f for f in tree.files if f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))
    )
    return [name for name in names if name in tree.files]


def _candidates(line: str):
    for word in _WORD.findall(line):
        word = word.rstrip(".,:;")
        if word.startswith("./"):
            word = word[2:]
        if "/" not in word or word.startswith(("/", "-", ".")) and not word.startswith(".github/"):
            continue
        if _NOT_A_PATH & set(word) or "//" in word:
            continue
        yield word


def _links(line: str):
    for target in _LINK.findall(line):
        target = target.split("#", 1)[0]
        if not target or ":" in target or target.startswith("/") or _NOT_A_PATH & set(target):
            continue
        yield target.removeprefix("./")


def references(tree: Tree):
    """REF-PATH: every repository path named in the Makefile, README and CI files exists."""
    top = ({d for d in tree.dirs if "/" not in d} | KNOWN_DIRS) - SKIP_DIRS
    for name in documents(tree):
        text = tree.text(name)
        if text is None:
            continue
        markdown = name.endswith(".md")
        for number, line in enumerate(text.splitlines(), 1):
            seen = set()
            for word in _candidates(line):
                if word.split("/", 1)[0] in top and not tree.exists(word) and word not in seen:
                    seen.add(word)
                    yield Finding(name, number, "REF-PATH", f"{word!r} does not exist in the repository")
            if markdown:
                for target in _links(line):
                    if (
                        target.split("/", 1)[0] not in SKIP_DIRS
                        and not tree.exists(target)
                        and target not in seen
                    ):
                        seen.add(target)
                        yield Finding(name, number, "REF-PATH", f"link target {target!r} does not exist")
