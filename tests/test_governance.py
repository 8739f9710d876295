"""Governance profiles: each bakes a policy the embedded sample passes, with its own limits."""

import json
import subprocess

import pytest
import yaml
from conftest import run_project

PROFILES = ("standard", "strict", "minimal")


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_bakes_and_the_default_sample_passes_its_gates(bake, profile):
    # given a project baked with this governance profile (committed first, as the next steps
    # say for strict, whose provenance gate wants the source commit)
    project = bake(governance_profile=profile)
    if profile == "strict":
        identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        for args in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "Bake"]):
            subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    # when its pipeline runs on the embedded sample
    result = run_project(project, "run")
    # then every gate passes and the model is released with its evidence
    report = json.loads((project / "artifacts/reports/governance.json").read_text())
    assert report["profile"] == profile and report["verdict"] == "pass", report["failed"]
    assert "verdict=pass" in result.stdout, result.stdout
    releases = project / "artifacts/releases"
    champion = json.loads((releases / "champion.json").read_text())["version"]
    released = {p.name for p in (releases / champion).iterdir()}
    assert {"model.joblib", "model_card.md", "provenance.json", "governance.json"} <= released, released


def test_govern_prints_one_line_per_failed_gate(bake, tmp_path):
    # given a project, and a policy no model can pass
    project = bake()
    policy = yaml.safe_load((project / "governance/policy.yaml").read_text())
    policy["performance"] = {"roc_auc": {"min": 0.999}, "accuracy": {"min": 0.999}}
    strict_policy = tmp_path / "policy.yaml"
    strict_policy.write_text(yaml.safe_dump(policy))
    run_project(project, "run")
    # when govern runs against it
    result = run_project(project, "--policy", str(strict_policy), "govern", check=False)
    # then it exits 2 with exactly one clean line per failed gate
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result
    assert (
        lines == [line for line in lines if line.startswith("Error: performance gate failed: ")]
        and len(lines) == 2
    ), result.stderr
