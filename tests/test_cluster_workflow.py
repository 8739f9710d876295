"""The upstream cluster test (.github/workflows/cluster.yml): it cannot run here, so its
workflow is checked against GitHub's schema and its shell steps run with --dry-run."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE

WORKFLOW = TEMPLATE / ".github" / "workflows" / "cluster.yml"
SCRIPT = TEMPLATE / "scripts" / "cluster_test.sh"
JOBS = {
    "tekton": ["bake", "image", "tekton-install", "tekton-apply", "tekton-run"],
    "kfp": ["bake", "image", "kfp-install", "kfp-submit"],
}


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def dry_run(*steps: str, work: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORK": str(work)}
    return subprocess.run(["bash", str(SCRIPT), "--dry-run", *steps], env=env, capture_output=True, text=True)


def test_workflow_matches_githubs_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "tool", [("zizmor", "--offline", str(WORKFLOW)), ("shellcheck", str(SCRIPT))], ids=lambda t: t[0]
)
def test_workflow_and_script_have_no_security_or_shell_findings(tool):
    # zizmor: template injection, unpinned actions, credentials kept by checkout; shellcheck: the script
    result = subprocess.run(
        [str(Path(sys.executable).parent / tool[0]), *tool[1:]], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{tool[0]}:\n{result.stdout}\n{result.stderr}"


def test_actions_are_pinned_by_commit_and_the_token_is_read_only():
    flow = workflow()
    assert flow["permissions"] == {"contents": "read"}, "the workflow asks for more than read access"
    for name, job in flow["jobs"].items():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (
                f"{name}: {step['uses']} not pinned"
            )
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{name}: checkout keeps the token"
    pins = re.findall(r"uses: \S+@[0-9a-f]{40} # v\d", WORKFLOW.read_text())
    assert len(pins) == sum(1 for job in flow["jobs"].values() for s in job["steps"] if "uses" in s), (
        "a pinned action without its release in a comment"
    )


def test_every_shell_step_is_the_script_and_the_jobs_run_their_steps_in_order():
    for name, job in workflow()["jobs"].items():
        runs = [step for step in job["steps"] if "run" in step]
        assert all(re.fullmatch(r"scripts/cluster_test\.sh [a-z-]+", s["run"].strip()) for s in runs), (
            f"{name}: shell outside scripts/cluster_test.sh: {[s['run'] for s in runs]}"
        )
        steps = [s["run"].split()[1] for s in runs if s.get("if") != "failure()"]
        assert steps == JOBS[name], f"{name} runs {steps}"
        assert runs[-1]["run"].endswith(" diagnose") and runs[-1]["if"] == "failure()", (
            f"{name}: no diagnosis"
        )


@pytest.mark.parametrize("job", JOBS)
def test_dry_run_prints_each_jobs_commands_and_runs_none(job, tmp_path):
    # when a job's steps run with --dry-run
    work = tmp_path / "work"
    result = dry_run(*JOBS[job], work=work)
    # then it succeeds, prints commands, and touched nothing (the work folder was not even made)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert commands and len(commands) == len(result.stdout.splitlines()), result.stdout
    assert not work.exists(), "a dry run made the work folder"
    assert f"cookiecutter-mlops-reference --no-input --output-dir {work}" in result.stdout, result.stdout
    if job == "tekton":
        assert "tekton-releases/pipeline/previous/v1.15.0/release.yaml" in result.stdout, (
            "Tekton Pipelines unpinned"
        )
        assert "tekton-releases/triggers/previous/v0.37.0/release.yaml" in result.stdout, "Triggers unpinned"
        assert "wait_for_govern" in result.stdout, "does not wait for the verdict"
    else:
        assert "env/platform-agnostic\\?ref=2.17.0" in result.stdout, "KFP unpinned"
        assert "mlops-demo submit --host" in result.stdout, "does not submit"


def test_an_unknown_step_is_one_line_and_exit_1(tmp_path):
    result = dry_run("bake", "deploy-everything", work=tmp_path / "work")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "cluster_test: error: unknown step 'deploy-everything' (steps: bake image tekton-install "
        "tekton-apply tekton-run kfp-install kfp-submit diagnose)"
    ], result.stderr
    assert result.stdout == "", "a step ran before the bad name was noticed"


def test_the_pipelinerun_started_upstream_is_the_baked_sample_with_the_runners_git_url(default_project):
    # when the script's PipelineRun helper reads the baked sample
    env = {**os.environ, "WORK": str(default_project.parent)}
    result = subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}" && pipelinerun git://172.18.0.1/mlops-demo'],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # then only git-url changed
    started = yaml.safe_load(result.stdout)
    sample = yaml.safe_load((default_project / "tekton" / "pipelinerun.yaml").read_text())
    urls = [p["value"] for p in started["spec"]["params"] if p["name"] == "git-url"]
    assert urls == ["git://172.18.0.1/mlops-demo"], started["spec"]["params"]
    for param in sample["spec"]["params"]:
        if param["name"] == "git-url":
            param["value"] = "git://172.18.0.1/mlops-demo"
    assert started == sample, "the PipelineRun differs from the baked sample beyond git-url"


def test_the_workflow_stays_upstream(default_project):
    assert not (default_project / ".github" / "workflows" / "cluster.yml").exists(), "baked projects got it"
    readme = (TEMPLATE / "README.md").read_text()
    assert "runs only upstream" in readme and "scripts/cluster_test.sh" in readme, "README does not say so"
