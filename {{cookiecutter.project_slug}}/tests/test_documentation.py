"""The datasheet and the technical file: written from the evidence, checked for completeness."""

import json
import re

import pytest
from click.testing import CliRunner

from conftest import edit_policy, prepare
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.governance import datasheet, technical_file
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.release import champion
from {{ cookiecutter.package_name }}.steps import run_step
from {{ cookiecutter.package_name }}.steps.govern import documents


def test_govern_writes_a_datasheet_with_every_section_and_the_measured_facts(settings, policy):
    # given a run up to evaluate, when govern runs
    prepare(settings, policy)
    run_step("govern", settings, policy)
    # then the datasheet has Gebru et al.'s sections, written text and measured facts
    docs = documents(settings.paths.model_card)
    markdown = docs["datasheet"].read_text()
    for heading in datasheet.SECTIONS.values():
        assert f"## {heading}\n" in markdown, f"datasheet lacks {heading!r}"
    sheet = json.loads(docs["datasheet_json"].read_text())
    assert sheet["composition"]["measured"]["rows"] == settings.data.rows, "row count not measured"
    assert "sex" in sheet["preprocessing"]["measured"]["excluded_from_inputs"], "sensitive input not named"
    assert sheet["completeness"] == [], f"the default datasheet has gaps: {sheet['completeness']}"
    # and no value of a sensitive attribute appears in it
    assert not re.search(r"\b(female|male)\b", markdown), "datasheet names a group"


def test_technical_file_follows_annex_iv_and_renders_without_external_resources(settings, policy):
    # given a run up to evaluate, when govern runs
    prepare(settings, policy)
    run_step("govern", settings, policy)
    page = documents(settings.paths.model_card)["technical_file"].read_text()
    # then it says which structure it follows and has every point of it
    assert "Annex IV" in page, "the regulation's structure is not named"
    for heading in technical_file.SECTIONS.values():
        assert heading in page, f"technical file lacks {heading!r}"
    # and it loads nothing, runs nothing, and charts the disparities
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I), "external reference"
    assert "<script" not in page.lower() and "url(" not in page, "the page loads or runs something"
    assert "<svg" in page, "no disparity chart"


def test_release_carries_the_datasheet_and_the_technical_file(settings, policy):
    # given a governed run, when package runs
    prepare(settings, policy)
    run_step("govern", settings, policy)
    run_step("package", settings, policy)
    # then both documents are in the release and its manifest
    release = settings.paths.release / champion(settings.paths.release)
    manifest = (release / "manifest.json").read_text()
    for name in ("datasheet.md", "technical_file.html"):
        assert (release / name).is_file(), f"{name} not released"
        assert name in manifest, f"{name} not in the manifest"


@pytest.mark.parametrize(
    ("section", "field", "text", "words"),
    [
        ("technical_file", "human_oversight", "TODO: describe who can stop it", "placeholder 'TODO'"),
        ("datasheet", "collection", "", "datasheet.collection is empty"),
    ],
)
def test_strict_profile_refuses_an_incomplete_technical_file_and_writes_nothing(
    workdir, settings, policy, section, field, text, words
):
    # given a strict policy whose written part is a placeholder or empty
    prepare(settings, policy)
    edit_policy(workdir, lambda p: p.update(profile="strict") or p[section].update({field: text}))
    reports = settings.paths.governance_report.parent
    before = sorted(path.name for path in reports.iterdir())
    # when govern runs
    result = CliRunner().invoke(cli, ["govern"])
    # then one line, exit 2, and no report written
    assert result.exit_code == 2, result.output
    assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(path.name for path in reports.iterdir()) == before, "govern wrote something"


def test_other_profiles_list_the_gaps_in_the_documents(workdir, settings, policy):
    # given a standard policy with an empty datasheet section
    prepare(settings, policy)
    edit_policy(workdir, lambda p: p.update(profile="standard") or p["datasheet"].update(uses=""))
    # when govern runs, then it passes and both documents list the gap
    summary = run_step("govern", settings, load_policy())
    assert summary["verdict"] == "pass", summary["failed"]
    docs = documents(settings.paths.model_card)
    assert "datasheet.uses is empty" in docs["datasheet"].read_text(), "gap not in the datasheet"
    assert "datasheet.uses is empty" in docs["technical_file"].read_text(), "gap not in the technical file"


def test_policy_rejects_an_unknown_datasheet_section(workdir):
    # given a required section Gebru et al. do not have
    edit_policy(workdir, lambda p: p["datasheet"].update(required=["motivation", "horoscope"]))
    # when the policy is read, then one error names it
    with pytest.raises(ProjectError, match="datasheet.required"):
        load_policy()
