"""Reject bad answers before cookiecutter writes anything.

Every problem is reported at once, one line each: the field, the value and the
rule it breaks. cookiecutter then removes the (still empty) output folder.
Jinja fills the answers in escaped inside string literals, so this file parses
and lints as-is.
"""

import keyword
import re
import sys
import unicodedata

ANSWERS = {
    "project_name": "{{ cookiecutter.project_name | escaped }}",
    "project_slug": "{{ cookiecutter.project_slug | escaped }}",
    "package_name": "{{ cookiecutter.package_name | escaped }}",
    "description": "{{ cookiecutter.description | escaped }}",
    "author_name": "{{ cookiecutter.author_name | escaped }}",
    "author_email": "{{ cookiecutter.author_email | escaped }}",
    "python_version": "{{ cookiecutter.python_version | escaped }}",
    "k8s_namespace": "{{ cookiecutter.k8s_namespace | escaped }}",
    "image": "{{ cookiecutter.image | escaped }}",
}

# The answers as given, before cookiecutter rendered them: answers passed on
# the command line are evaluated as Jinja ("{{ 7*7 }}" becomes "49"), so text
# that holds Jinja syntax would silently change. (cruft renders without
# `_cookiecutter`; then the rendered answers are all there is.)
# {% set given = _cookiecutter if _cookiecutter is defined else cookiecutter %}
GIVEN_TEXT = {
    "project_name": "{{ given.project_name | escaped }}",
    "description": "{{ given.description | escaped }}",
    "author_name": "{{ given.author_name | escaped }}",
    "author_email": "{{ given.author_email | escaped }}",
}
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


def problems(answers: dict[str, str]) -> list[str]:
    """Every rule an answer breaks, as 'field = value: rule' lines."""
    found = []

    def bad(field: str, rule: str) -> None:
        found.append(f"{field} = {answers[field]!r}: {rule}")

    for field, given in GIVEN_TEXT.items():
        if any(mark in given for mark in JINJA):
            marks = ", ".join(JINJA)
            found.append(f"{field} = {given!r}: must not contain {marks} (cookiecutter evaluates Jinja)")
    for field in ("project_name", "description", "author_name"):
        value = answers[field]
        if field in GIVEN_TEXT and any(mark in GIVEN_TEXT[field] for mark in JINJA):
            continue
        if not value.strip():
            bad(field, "must not be empty")
        elif any(unicodedata.category(ch) in LINE_BREAKING for ch in value):
            bad(field, "must be one line of text (no newline, tab or other control character)")
        elif len(value) > 200:
            bad(field, "must be at most 200 characters")

    for field in ("project_slug", "k8s_namespace"):
        value = answers[field]
        if not DNS_LABEL.match(value):
            bad(field, "must be a DNS-1123 label: lowercase letters, digits and '-', starting with a letter")
        elif len(value) > MAX_SLUG:
            bad(field, f"must be at most {MAX_SLUG} characters so derived Kubernetes names fit in 63")
        elif value in YAML_WORDS:
            bad(field, "must not be a word YAML reads as null or a boolean (null, true, yes, on...)")

    package = answers["package_name"]
    if not package.isidentifier() or not package.isascii():
        bad("package_name", "must be a valid Python identifier (letters, digits, '_')")
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        bad("package_name", "must not be a Python keyword")
    elif package in SHADOWED or package in sys.stdlib_module_names:
        bad("package_name", "must not shadow a module the project imports")
    elif package != package.lower():
        bad("package_name", "must be lowercase (PEP 8)")

    if not EMAIL.match(answers["author_email"]):
        bad("author_email", "must look like name@domain.tld")

    if answers["python_version"] not in SUPPORTED_PYTHON:
        bad("python_version", f"must be one of {', '.join(SUPPORTED_PYTHON)}")

    image = answers["image"]
    if not IMAGE.match(image):
        bad("image", "must be registry/name:tag or registry/name@sha256:digest, lowercase")
    elif image.endswith(":latest"):
        bad("image", "must be pinned to a tag or digest other than 'latest'")
    return found


if __name__ == "__main__":
    errors = problems(ANSWERS)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1 if errors else 0)
