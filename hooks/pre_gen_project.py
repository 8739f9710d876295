"""Reject bad answers before cookiecutter writes anything.

Every problem is reported at once, one line each: the field, the value and the
rule it breaks. cookiecutter then removes the (still empty) output folder.
The rules live in the template's `cookiecutter_mlops_reference/answers.py`,
the same module the template's command checks each answer with as it is asked.
Jinja fills the answers in escaped inside string literals, so this file parses
and lints as-is.
"""

import importlib.util
import sys
from pathlib import Path

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

# Where the template is checked out, the first absolute one that has the module:
# cookiecutter's folder or clone (as given: `cookiecutter .` gives ".", useless in
# the project folder this hook runs in), the folder local_extensions.py was loaded
# from (cruft passes no _repo_dir), the location as given.
CHECKOUTS = [
    "{{ cookiecutter._repo_dir | default('') | escaped }}",
    "{{ template_checkout | default('') | escaped }}",
    "{{ cookiecutter._template | default('') | escaped }}",
]
RULES = Path("cookiecutter_mlops_reference", "answers.py")


def template_module(relative: Path, places: list[str]):
    """Load one module of the template's own package from its checkout (hooks cannot import beside them)."""
    for place in filter(Path.is_absolute, map(Path, filter(None, places))):
        path = place / relative
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"_template_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    print(f"error: {relative} not found in the template checkout ({', '.join(places)})", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    errors = template_module(RULES, CHECKOUTS).problems(ANSWERS, given=GIVEN_TEXT)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1 if errors else 0)
