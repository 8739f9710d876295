"""The pre-generation hook: bad answers are refused with one line each, nothing written."""

import subprocess
import sys

import pytest
from conftest import TEMPLATE


def cookiecutter(out, *answers: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE), *answers],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("project_name=", "project_name"),
        ("project_slug=1abc", "project_slug"),
        ("project_name=null", "project_slug"),
        ("project_slug=yes", "project_slug"),
        ("project_slug=" + "a" * 60, "project_slug"),
        ("package_name=import", "package_name"),
        ("package_name=kfp", "package_name"),
        ("package_name=my-pkg", "package_name"),
        ("author_email=nobody.example.com", "author_email"),
        ("python_version=3.8", "python_version"),
        ("image=registry.example.com/app:latest", "image"),
        ("description=two\nlines", "description"),
    ],
    ids=lambda v: v if "=" not in v else v.split("=")[0] + "=" + v.split("=", 1)[1][:12],
)
def test_bad_answer_is_refused_naming_the_field_and_nothing_is_written(tmp_path, answer, field):
    # when cookiecutter bakes with one bad answer
    result = cookiecutter(tmp_path, answer)
    # then it exits non-zero, names the field on one error line, and leaves no folder
    assert result.returncode != 0, f"{answer!r} was accepted"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and errors[0].startswith(f"error: {field} = "), f"no line names {field}:\n{result.stderr}"
    assert list(tmp_path.iterdir()) == [], f"output left behind: {list(tmp_path.iterdir())}"


def test_every_bad_answer_is_reported_at_once(tmp_path):
    result = cookiecutter(tmp_path, "project_slug=1abc", "author_email=x", "python_version=2.7")
    fields = {line.split(" ")[1] for line in result.stderr.splitlines() if line.startswith("error: ")}
    assert {"project_slug", "author_email", "python_version"} <= fields, result.stderr


def test_post_gen_hook_failure_removes_the_project(tmp_path, monkeypatch):
    # given a template copy whose policy file is broken YAML
    import shutil

    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.pyc"))
    policy = template / "{{cookiecutter.project_slug}}" / "governance" / "policy.yaml"
    policy.write_text(policy.read_text() + "\nbroken: [unclosed\n")
    out = tmp_path / "out"
    # when it is baked, then the bake fails with a YAML-PARSE finding and no project remains
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(template)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "governance/policy.yaml" in result.stderr and "YAML-PARSE" in result.stderr, result.stderr
    assert not (out / "mlops-demo").exists(), "a project that failed validation was left behind"
