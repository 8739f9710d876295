"""Hostile answers: every bake is refused cleanly or keeps the text exactly as given.

Property (hypothesis): for any project name, description and author, the bake
either is refused by the pre-generation hook, leaving no folder, or yields a
project whose YAML and TOML parse, whose validator passed (the post-generation
hook ran it), and in which each value reads back exactly as given.
`HYPOTHESIS_PROFILE=thorough` (make test-thorough) tries thousands of inputs.
"""

import json
import os
import subprocess
import sys

import pytest
import tomllib
import yaml
from conftest import TEMPLATE
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

settings.register_profile("default", max_examples=100, deadline=None)  # about 2 s a bake
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

NASTY = ['"', "'", ":", "#", "{{", "}}", "{%", "%}", "$(", "${{", "`", "\n", "\t", "\\", "- ", "&", "*", "|"]
printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
text = st.one_of(
    st.text(max_size=40),
    st.text(printable, min_size=1, max_size=60),
    st.text(printable, min_size=1, max_size=60),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=12).map("".join),
    st.text(alphabet="aé漢🙂 ", min_size=150, max_size=260),
)


def bake_or_refuse(out, context: dict) -> str | None:
    """The baked project's folder, or None when cookiecutter or the hook refused."""
    try:
        return cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context=context)
    except CookiecutterException:  # our hooks refused
        return None
    except SystemExit as refused:  # local_extensions refused an answer that is broken Jinja
        assert refused.code == 1
        return None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=text, description=text, author=text)
@example(name="null", description="0", author="0")  # once made `name: null` in every manifest
@example(name="", description="", author="{{A}}")  # once refused by cookiecutter with no line of ours
def test_hostile_text_is_refused_or_kept_exactly(tmp_path_factory, capfd, name, description, author):
    out = tmp_path_factory.mktemp("hostile")
    context = {"project_name": name, "description": description, "author_name": author}
    capfd.readouterr()
    project = bake_or_refuse(out, context)
    if project is None:
        errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")]
        assert errors, "refused without an error line"
        field = errors[0].split(" = ")[0].removeprefix("error: ") if " = " in errors[0] else "broken Jinja"
        event(f"refused: {field}")
        assert list(out.iterdir()) == [], f"refused bake left {list(out.iterdir())}"
        assert not any("failed validation" in line for line in errors), f"baked project was broken: {errors}"
        return
    event("baked")
    root = out / project
    for path in [*root.rglob("*.yaml"), *root.rglob("*.yml")]:
        list(yaml.safe_load_all(path.read_text(encoding="utf-8")))  # raises if broken
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == description, "description changed on its way into pyproject.toml"
    assert meta["authors"][0]["name"] == author, "author changed on its way into pyproject.toml"
    answers = json.loads((root / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert (answers["project_name"], answers["description"]) == (name, description), "answers not kept"
    assert name in (root / "README.md").read_text(encoding="utf-8"), "project name missing from README"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("{{ broken", "unexpected end of template, expected 'end of print statement'."),
        ("{{A}}", "'A' is undefined"),
    ],
    ids=["broken-jinja", "undefined-variable"],
)
def test_an_answer_cookiecutter_cannot_render_is_one_line_not_a_traceback(tmp_path, answer, reason):
    # cookiecutter renders answers as Jinja before any hook runs: the extension answers instead
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), f"author_name={answer}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    expected = (
        f"error: answer {answer!r}: must not contain {{{{, {{%, {{# (cookiecutter evaluates Jinja: {reason})"
    )
    assert result.stderr.splitlines() == [expected], result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "context",
    [
        {"description": "{{ 7*7 }}"},
        {"project_name": "Demo {% if 1 %}x{% endif %}"},
        {"author_name": "a\nb: injected"},
    ],
    ids=["jinja-expression", "jinja-statement", "newline-key-injection"],
)
def test_template_syntax_and_newlines_are_refused_not_evaluated(tmp_path, context):
    assert bake_or_refuse(tmp_path, context) is None, f"{context} was baked"
    assert list(tmp_path.iterdir()) == []
