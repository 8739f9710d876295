"""What a bake writes: the file set, clean rendering, recorded answers, validation."""

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, pairwise_matrix, run_in

# ${{ ... }} is GitHub Actions' own expression syntax (the workflow's concurrency group), not Jinja;
# .cookiecutter.json is the answers file a baked script reads
LEFTOVER_JINJA = re.compile(r"(?<!\$){{|{%|cookiecutter\.(?!json)")


def files_of(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def test_default_bake_has_the_expected_files(default_project):
    files = files_of(default_project)
    expected = {
        ".cookiecutter.json",
        ".gitignore",
        ".dockerignore",
        "Dockerfile",
        "LICENSE",
        "Makefile",
        "README.md",
        "pyproject.toml",
        "uv.lock",
        "params.yaml",
        "governance/policy.yaml",
        "src/mlops_demo/__init__.py",
        "src/mlops_demo/cli.py",
        "src/mlops_demo/settings.py",
        "src/mlops_demo/features.py",
        "src/mlops_demo/footprint.py",
        "src/mlops_demo/models.py",
        "src/mlops_demo/sweep.py",
        "tests/test_sweep.py",
        "docs/extending.md",
        "tests/test_extending.py",
        "src/mlops_demo/init_data.py",
        "tests/test_your_data.py",
        "tests/test_contract.py",
        "tests/test_fairness.py",
        "docs/your-data.md",
        "src/mlops_demo/steps/ingest.py",
        "src/mlops_demo/steps/validate_data.py",
        "src/mlops_demo/steps/train.py",
        "src/mlops_demo/steps/evaluate.py",
        "src/mlops_demo/steps/govern.py",
        "src/mlops_demo/steps/package.py",
        "src/mlops_demo/governance/policy.py",
        "src/mlops_demo/governance/gates.py",
        "src/mlops_demo/governance/fairness.py",
        "src/mlops_demo/governance/model_card.py",
        "src/mlops_demo/governance/provenance.py",
        "src/mlops_demo/governance/report.py",
        "src/mlops_demo/governance/sensitive.py",
        "src/mlops_demo/governance/placeholders.py",
        "src/mlops_demo/governance/datasheet.py",
        "src/mlops_demo/governance/technical_file.py",
        "tests/test_sensitive_data.py",
        "tests/test_documentation.py",
        "src/mlops_demo/governance/explain.py",
        "src/mlops_demo/governance/robustness.py",
        "tests/test_robustness.py",
        "src/mlops_demo/governance/erasure.py",
        "tests/test_forget.py",
        "docs/governance.md",
        "tests/test_governance.py",
        "src/mlops_demo/supply_chain/__init__.py",
        "src/mlops_demo/supply_chain/sbom.py",
        "src/mlops_demo/supply_chain/mlbom.py",
        "src/mlops_demo/supply_chain/licences.py",
        "src/mlops_demo/supply_chain/dsse.py",
        "src/mlops_demo/supply_chain/release_log.py",
        "src/mlops_demo/supply_chain/attestation.py",
        "src/mlops_demo/supply_chain/verify.py",
        "docs/supply-chain.md",
        "tests/test_supply_chain.py",
        "scripts/pin_images.py",
        "tests/test_pin_images.py",
        "src/mlops_demo/pipelines/local.py",
        ".pre-commit-config.yaml",
        "tests/test_steps.py",
        "tests/test_cli.py",
        "src/mlops_demo/monitoring/__init__.py",
        "src/mlops_demo/monitoring/stats.py",
        "src/mlops_demo/monitoring/reference.py",
        "src/mlops_demo/monitoring/inference_log.py",
        "src/mlops_demo/monitoring/monitor.py",
        "src/mlops_demo/monitoring/feedback.py",
        "src/mlops_demo/monitoring/report.py",
        "src/mlops_demo/monitoring/runner.py",
        "src/mlops_demo/monitoring/guard.py",
        "src/mlops_demo/monitoring/replay.py",
        "src/mlops_demo/pipelines/trigger.py",
        "src/mlops_demo/pipelines/kfp_monitoring.py",
        "tekton/tasks/monitor.yaml",
        "tekton/tasks/request-retrain.yaml",
        "tekton/monitor-pipeline.yaml",
        "tekton/monitor-cronjob.yaml",
        "tekton/triggers/monitor-template.yaml",
        "docs/monitoring.md",
        "tests/test_monitoring.py",
        "src/mlops_demo/release/__init__.py",
        "src/mlops_demo/release/store.py",
        "src/mlops_demo/release/champion.py",
        "src/mlops_demo/release/signature.py",
        "src/mlops_demo/release/publish.py",
        "src/mlops_demo/release/revocation.py",
        "src/mlops_demo/release/commands.py",
        "src/mlops_demo/serving/commands.py",
        "src/mlops_demo/serving/__init__.py",
        "src/mlops_demo/serving/server.py",
        "src/mlops_demo/serving/protocol.py",
        "src/mlops_demo/serving/inference_log.py",
        "src/mlops_demo/serving/cut_out.py",
        "docs/serving.md",
        "tests/test_serving.py",
        "tests/test_release.py",
        "tests/test_deploy.py",
        "deploy/inferenceservice.yaml",
        "tekton/tasks/deploy.yaml",
        "tekton/tasks/rollback.yaml",
        "tekton/rollback-pipeline.yaml",
        "tekton/rollback-run.yaml",
    }
    missing = expected - files
    assert not missing, f"default bake lacks {sorted(missing)}"


def test_no_template_syntax_survives_rendering(config, bake):
    project = bake(**config)
    for path in project.rglob("*"):
        if path.is_file() and path.name != ".cookiecutter.json":
            text = path.read_text(encoding="utf-8")
            match = LEFTOVER_JINJA.search(text)
            assert not match, f"{path.relative_to(project)} still holds {match.group()!r}"
    assert not [p for p in project.rglob("*") if p.is_dir() and not any(p.iterdir())], "empty folder left"


def test_bake_records_its_answers_for_replay(bake):
    project = bake(project_name="Credit Risk", license="MIT")
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert answers["project_slug"] == "credit-risk" and answers["package_name"] == "credit_risk"
    assert answers["license"] == "MIT" and "MIT License" in (project / "LICENSE").read_text()


def test_proprietary_license_writes_no_license_file(bake):
    project = bake(license="Proprietary")
    assert not (project / "LICENSE").exists(), "a proprietary project got a LICENSE file"
    assert "license =" not in (project / "pyproject.toml").read_text()


def test_every_configuration_passes_its_own_validator_and_ruff(config, bake):
    project = bake(**config)
    assert "no findings" in run_in(project, sys.executable, "-m", "mlops_validator").stdout
    ruff = str(Path(sys.executable).parent / "ruff")
    run_in(project, ruff, "check", "src", "tests")
    run_in(project, ruff, "format", "--check", "src", "tests")


def test_user_text_is_quoted_into_pyproject(bake):
    import tomllib

    description = 'Says "hi" # not a comment: {x} $(whoami) é'
    project = bake(description=description, author_name="O'Brien & Co")
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["description"] == description, "description changed on the way into TOML"
    assert meta["authors"][0]["name"] == "O'Brien & Co"


@pytest.mark.parametrize("options", pairwise_matrix(), ids=lambda c: "-".join(c.values()))
def test_pairwise_configurations_bake_with_zero_findings(bake, options):
    # the post-generation hook already fails a bake with findings; check the CLI agrees
    project = bake(**options)
    result = run_in(project, sys.executable, "-m", "mlops_validator", "--format", "json")
    assert json.loads(result.stdout) == [], result.stdout


def test_no_bake_ships_validator_code(bake):
    # given the option that keeps the most code, and the one that keeps the least manifests
    for options in ({}, {"orchestrators": "kfp"}):
        project = bake(**options)
        # then the runtime package holds no rule code: the validator lives in the template
        leftovers = [p.name for p in (project / "src").rglob("*.py") if "RULE_IDS" in p.read_text()]
        assert not leftovers, f"validator code in the runtime package: {leftovers}"
        assert not (project / "src" / project.name.replace("-", "_") / "checks").exists()


# Template modules where an option adds code inside a block, so Jinja sits in
# Python syntax; every other module of the generated package parses (and lints)
# before rendering. Keep this list short.
JINJA_IN_CODE = {"settings.py", "pipelines/kfp.py"}


def test_generated_package_modules_parse_before_rendering():
    import ast

    package = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
    failing = set()
    for path in package.rglob("*.py"):
        try:
            ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            failing.add(path.relative_to(package).as_posix())
    assert failing == JINJA_IN_CODE, f"do not parse: {sorted(failing)} (allowed: {sorted(JINJA_IN_CODE)})"


def test_an_edited_template_file_reaches_the_next_bake_past_the_compiled_cache(tmp_path, monkeypatch):
    # given a copy of the template, baked once, so its compiled templates are cached
    import shutil
    import tempfile

    from cookiecutter.main import cookiecutter

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where Jinja keeps its cache
    copy = tmp_path / "template"
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", ".*cache", "__pycache__")
    shutil.copytree(TEMPLATE, copy, ignore=ignore)
    first = Path(cookiecutter(str(copy), no_input=True, output_dir=str(tmp_path / "first")))
    (cache,) = tmp_path.glob("_jinja2-cache-*")
    assert len(list(cache.iterdir())) > 100, "the bake cached no compiled templates"
    # when a file of the template changes and it is baked again
    readme = copy / "{{cookiecutter.project_slug}}" / "README.md"
    edit = "\nEdited after the first bake: {{ cookiecutter.project_slug }}.\n"
    readme.write_text(readme.read_text() + edit)
    second = Path(cookiecutter(str(copy), no_input=True, output_dir=str(tmp_path / "second")))
    # then the second bake has the edit, rendered, and nothing else differs
    assert (second / "README.md").read_text().endswith("\nEdited after the first bake: mlops-demo.\n")
    assert files_of(first) == files_of(second)
    same = [f for f in files_of(first) if f != "README.md"]
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in same)
