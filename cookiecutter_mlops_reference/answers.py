"""The rules every answer to the template must meet: one copy, for the command and the hook.

`problem(field, value)` checks one answer as it is given (the command asks again
on a bad one); `problems(answers)` checks them all and reports every broken
rule at once (the pre-generation hook, and the command with --no-input). Each
line names the field, the value and the rule. Standard library only: the hook
imports this file from the template checkout with cookiecutter's own Python.
"""

import keyword
import re
import sys
import unicodedata
from collections.abc import Mapping

# Answers shown as one line of text; cookiecutter renders every answer as Jinja,
# so text holding Jinja syntax would silently change.
TEXT = ("project_name", "description", "author_name")
CHECKED = (
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "python_version",
    "k8s_namespace",
    "image",
)

LINE_BREAKING = {"Cc", "Cs", "Zl", "Zp"}  # control characters, surrogates, line separators
JINJA = ("{" + "{", "{" + "%", "{" + "#")  # spelt apart: this file is itself a Jinja template

# The longest name derived from the slug is the Service Tekton Triggers creates
# for the EventListener: "el-" + slug + "-listener" must fit in 63 characters.
MAX_SLUG = 63 - len("el-") - len("-listener")
# Unquoted in the manifests, these would be read as null or booleans, not names.
YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An image reference with an explicit tag or digest; no ":latest".
IMAGE = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
# Modules the generated project imports; a package with one of these names
# would shadow it.
SHADOWED = {
    "click",
    "yaml",
    "kfp",
    "sklearn",
    "pandas",
    "numpy",
    "joblib",
    "pandera",
    "pydantic",
    "fairlearn",
    "openlineage",
    "mlflow",
    "dvc",
    "pytest",
    "test",
    "tests",
    "src",
    "json",
    "os",
    "sys",
    "io",
    "typing",
    "dataclasses",
    "pathlib",
    "logging",
    "math",
    "random",
    "string",
    "types",
    "site",
    "abc",
    "collections",
}
SUPPORTED_PYTHON = ("3.10", "3.11", "3.12", "3.13")


def _text(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if any(unicodedata.category(ch) in LINE_BREAKING for ch in value):
        return "must be one line of text (no newline, tab or other control character)"
    if len(value) > 200:
        return "must be at most 200 characters"
    return None


def _name(value: str) -> str | None:
    if not DNS_LABEL.match(value):
        return "must be a DNS-1123 label: lowercase letters, digits and '-', starting with a letter"
    if len(value) > MAX_SLUG:
        return f"must be at most {MAX_SLUG} characters so derived Kubernetes names fit in 63"
    if value in YAML_WORDS:
        return "must not be a word YAML reads as null or a boolean (null, true, yes, on...)"
    return None


def _package(value: str) -> str | None:
    if not value.isidentifier() or not value.isascii():
        return "must be a valid Python identifier (letters, digits, '_')"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return "must not be a Python keyword"
    if value in SHADOWED or value in sys.stdlib_module_names:
        return "must not shadow a module the project imports"
    if value != value.lower():
        return "must be lowercase (PEP 8)"
    return None


def _email(value: str) -> str | None:
    return None if EMAIL.match(value) else "must look like name@domain.tld"


def _python(value: str) -> str | None:
    return None if value in SUPPORTED_PYTHON else f"must be one of {', '.join(SUPPORTED_PYTHON)}"


def _image(value: str) -> str | None:
    if not IMAGE.match(value):
        return "must be registry/name:tag or registry/name@sha256:digest, lowercase"
    if value.endswith(":latest"):
        return "must be pinned to a tag or digest other than 'latest'"
    return None


RULES = {
    "project_name": _text,
    "description": _text,
    "author_name": _text,
    "author_email": _email,
    "project_slug": _name,
    "k8s_namespace": _name,
    "package_name": _package,
    "python_version": _python,
    "image": _image,
}


def jinja_rule() -> str:
    return f"must not contain {', '.join(JINJA)} (cookiecutter evaluates Jinja)"


def problem(field: str, value: str, choices: list[str] | None = None) -> str | None:
    """The rule `value` breaks as the answer to `field`, as a 'field = value: rule' line, or None."""
    if choices is not None:
        if value in choices:
            return None
        return f"{field} = {value!r}: must be one of {', '.join(choices)}"
    if any(mark in value for mark in JINJA):
        return f"{field} = {value!r}: {jinja_rule()}"
    rule = RULES[field](value) if field in RULES else None
    return f"{field} = {value!r}: {rule}" if rule else None


def problems(answers: Mapping[str, str], given: Mapping[str, str] | None = None) -> list[str]:
    """Every rule the answers break, one 'field = value: rule' line each, in prompt order.

    `given` holds text answers as typed, before cookiecutter rendered them; Jinja
    in those is reported instead of whatever it rendered to.
    """
    found = []
    for field in CHECKED:
        typed = (given or {}).get(field)
        if typed is not None and any(mark in typed for mark in JINJA):
            found.append(f"{field} = {typed!r}: {jinja_rule()}")
            continue
        line = problem(field, answers[field])
        if line:
            found.append(line)
    return found
