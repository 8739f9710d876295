"""Supply chain: SBOM and ML-BOM, licence gate, signed provenance, verify and the release log."""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cyclonedx.schema import SchemaVersion

from conftest import PROJECT
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.context import PARENT_RUN_ENV
from {{ cookiecutter.package_name }}.errors import GateFailed, ProjectError
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.release import champion, promote, release_versions, rollback
from {{ cookiecutter.package_name }}.steps import STEPS, run_step
from {{ cookiecutter.package_name }}.supply_chain import attestation, dsse, release_log, verify_release
from {{ cookiecutter.package_name }}.supply_chain import sbom as sboms

RELEASES = Path("artifacts/releases")
LOG = RELEASES / "release-log.jsonl"
PUBLIC_KEY = Path(".keys/release-signing.pub")


def champion_folder() -> Path:
    """The champion's release folder, releases/<version>/ (relative to the project folder)."""
    version = champion(RELEASES)
    assert version, f"no champion in {RELEASES}"
    return RELEASES / version


def verify_error(**kwargs) -> str:
    with pytest.raises(ProjectError) as caught:
        verify_release(kwargs.pop("release", champion_folder()), kwargs.pop("key", PUBLIC_KEY), **kwargs)
    message = str(caught.value)
    assert "\n" not in message, f"not one line: {message!r}"
    return message


def test_a_clean_release_verifies(project):
    # given the release package wrote
    # when it is verified with the signer's public key
    result = verify_release(champion_folder(), PUBLIC_KEY)
    # then every file is covered by the signature, the manifest, signature and reference included
    signed = {"model.joblib", "sbom.cdx.json", "mlbom.cdx.json", "provenance.json", "manifest.json"}
    assert signed | {"signature.json", "reference.json"} <= set(result["files"]), result
    # and the log holds package's entry and its auto-promote, chained
    assert result["log_entries"] == 2, result
    assert [e["action"] for e in release_log.verify_chain(LOG)] == ["package", "promote"]


def test_verify_names_a_model_changed_by_one_byte(project):
    # given one byte of the released model flipped
    model = project / champion_folder() / "model.joblib"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    # then verify fails and names the model
    message = verify_error()
    assert "model.joblib" in message and "sha256" in message, message


def test_verify_names_a_swapped_sbom(project):
    # given the SBOM replaced by another environment's (one library fewer)
    sbom_path = project / champion_folder() / "sbom.cdx.json"
    sbom = json.loads(sbom_path.read_text())
    sbom["components"] = sbom["components"][1:]
    sbom_path.write_text(json.dumps(sbom, indent=2, sort_keys=True) + "\n")
    # then verify fails and names the SBOM
    assert "sbom.cdx.json" in verify_error(), "the swapped SBOM was not named"


def test_verify_names_an_edited_release_log_line(project):
    # given the release log's entry edited to name another model
    first, *rest = (project / LOG).read_text().splitlines()
    edited = json.dumps(json.loads(first) | {"model_sha256": "0" * 64}, sort_keys=True)
    (project / LOG).write_text("\n".join([edited, *rest]) + "\n")
    # then verify fails naming the log and the line
    message = verify_error()
    assert "release-log.jsonl line 1" in message and "edited" in message, message


def test_verify_names_a_release_log_cut_short(project):
    # given the release's own log entry deleted
    (project / LOG).write_text("")
    # then verify says the log no longer records the release
    assert "no entry records this release" in verify_error(), "a cut log verified"


def test_a_release_marked_by_forget_still_verifies_and_says_so(project):
    # given forget's revoked.json added to the signed release
    (project / champion_folder() / "revoked.json").write_text('{"status": "needs retraining"}\n')
    # then the release is still the one signed, and verify reports the mark
    assert verify_release(champion_folder(), PUBLIC_KEY)["revoked"] is True
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 0 and "revoked.json" in result.output, result.output


def test_verify_fails_with_a_key_that_did_not_sign(project):
    # given another key's public half
    other = dsse.load_or_create_key(project / "other/key")
    assert other is not None
    # then the signature does not verify with it, and the message says so
    message = verify_error(key=project / "other/key.pub")
    assert "signature does not verify" in message and "key.pub" in message, message


def test_verify_refuses_an_unsigned_release(project):
    (project / champion_folder() / "provenance.dsse.json").unlink()
    assert "not signed" in verify_error()


def test_promote_and_rollback_are_chained_in_the_log_verify_reads(project):
    # given a second release folder (a copy of the first), promoted and then rolled back
    version = champion(RELEASES)
    other = RELEASES / ("0" * 12)
    shutil.copytree(RELEASES / version, other)
    promote(RELEASES, other.name, "test: a copy")
    rollback(RELEASES, "test: back")
    # then the promote and rollback entries are chained after package's, and the release still verifies
    entries = release_log.verify_chain(LOG)
    assert [e["action"] for e in entries] == ["package", "promote", "promote", "rollback"], entries
    assert verify_release(RELEASES / version, PUBLIC_KEY)["log_entries"] == 4


def test_serve_refuses_a_release_that_does_not_verify(project):
    from {{ cookiecutter.package_name }}.serving.server import ModelSlot

    # given the champion's model card edited after signing
    (project / champion_folder() / "model_card.md").write_text("edited\n")
    # then serve refuses at start, in one line, exit 2
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "model_card.md" in result.output and "Traceback" not in result.output, result.output
    # and a slot that follows the alias to such a release refuses it (the server answers 503)
    with pytest.raises(ProjectError, match="model_card.md"):
        ModelSlot(RELEASES, public_key=PUBLIC_KEY)


def test_environment_sbom_is_read_again_once_a_distribution_is_installed(tmp_path, monkeypatch):
    # given the SBOM this process read (and keeps while sys.path's folders stay the same)
    before = {c["name"] for c in sboms.environment_sbom("p", "1")["components"]}
    assert (
        sboms.environment_sbom("p", "1")["components"]
        == sboms._environment_sbom.__wrapped__("p", "1", ())["components"]
    )
    # when a distribution appears in a folder on sys.path
    site = tmp_path / "site"
    (site / "zq_fake-1.0.dist-info").mkdir(parents=True)
    (site / "zq_fake-1.0.dist-info/METADATA").write_text(
        "Metadata-Version: 2.1\nName: zq-fake\nVersion: 1.0\n"
    )
    monkeypatch.syspath_prepend(str(site))
    # then the next SBOM lists it, and nothing else changed
    after = {c["name"] for c in sboms.environment_sbom("p", "1")["components"]}
    assert after - before == {"zq-fake"} and before <= after


def test_release_log_detects_a_removed_entry_between_others(tmp_path):
    # given a log of three entries, the middle one deleted
    log = tmp_path / "log.jsonl"
    for action in ("package", "promote", "rollback"):
        release_log.append_entry(log, {"action": action})
    lines = log.read_text().splitlines()
    log.write_text(lines[0] + "\n" + lines[2] + "\n")
    # then the chain breaks at the entry that followed it
    with pytest.raises(ProjectError, match="line 2: does not follow"):
        release_log.verify_chain(log)
    # and nothing more is appended to a broken log
    with pytest.raises(ProjectError):
        release_log.append_entry(log, {"action": "promote"})
    assert len(log.read_text().splitlines()) == 2, "appended to a broken log"


def torn_tail(log: Path) -> bytes:
    """Append the first half of a would-be entry, as a process killed mid-append leaves it."""
    entry = json.dumps({"action": "promote", "version": "0" * 12, "prev": "0" * 64, "hash": "0" * 64})
    with log.open("a") as handle:
        handle.write(entry[: len(entry) // 2])
    return log.read_bytes()


def test_verify_and_promote_name_a_torn_last_line_of_the_release_log(project):
    # given a second release, and a release log whose third line an append killed mid-write left torn
    shutil.copytree(champion_folder(), RELEASES / ("0" * 12))
    before = torn_tail(project / LOG)
    # when verify runs, then it names the torn line in one line, exit 2
    message = verify_error()
    assert "release-log.jsonl line 3: torn" in message, message
    runner = CliRunner()
    checked = runner.invoke(cli, ["verify"])
    assert checked.exit_code == 2 and checked.output.count("\n") == 1, checked.output
    assert "line 3: torn" in checked.output, checked.output
    # when promote would chain onto it, then it refuses in one line saying what to do, and changes nothing
    moved = runner.invoke(cli, ["promote", "0" * 12, "-m", "why"])
    assert moved.exit_code == 2 and moved.output.count("\n") == 1, moved.output
    assert "line 3 is torn" in moved.output and "delete that last line" in moved.output, moved.output
    assert "verify" in moved.output and "Traceback" not in moved.output, moved.output
    assert (project / LOG).read_bytes() == before, "the torn log was changed"
    assert champion(RELEASES) != "0" * 12, "the alias moved"


def test_appending_to_a_release_log_works_again_once_its_torn_line_is_deleted(tmp_path):
    # given a log of two entries and a torn third line
    log = tmp_path / "release-log.jsonl"
    for action in ("package", "promote"):
        release_log.append_entry(log, {"action": action})
    torn_tail(log)
    with pytest.raises(ProjectError, match="line 3 is torn"):
        release_log.append_entry(log, {"action": "rollback"})
    # when the user deletes the torn line, as the message says
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:2]))
    # then the next entry chains onto the second, and the log verifies
    release_log.append_entry(log, {"action": "rollback"})
    entries = release_log.verify_chain(log)
    assert [e["action"] for e in entries] == ["package", "promote", "rollback"], entries


def test_a_last_entry_that_lacks_only_its_newline_is_ended_before_the_next(tmp_path):
    # given a log whose one entry is whole but was cut just before its newline
    log = tmp_path / "release-log.jsonl"
    release_log.append_entry(log, {"action": "package"})
    log.write_text(log.read_text().rstrip("\n"))
    # then it verifies, and the next append goes on a line of its own, chained to it
    assert len(release_log.verify_chain(log)) == 1
    release_log.append_entry(log, {"action": "promote"})
    assert [e["action"] for e in release_log.verify_chain(log)] == ["package", "promote"]


def test_cli_verify_is_one_line_and_exit_2_on_a_mismatch(project):
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify"])
    assert ok.exit_code == 0 and "is intact" in ok.output, ok.output
    (project / champion_folder() / "model_card.md").write_text("edited\n")
    bad = runner.invoke(cli, ["verify", str(champion_folder())])
    assert bad.exit_code == 2, bad.output
    assert bad.output.count("\n") == 1 and "model_card.md" in bad.output, bad.output


def test_sbom_and_mlbom_validate_against_cyclonedx_1_6(project):
    # imported here: its jsonschema format checkers take seconds to import, and under xdist
    # every worker imports every test module while one runs this test
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_6)
    for name in ("sbom.cdx.json", "mlbom.cdx.json"):
        errors = validator.validate_str((project / champion_folder() / name).read_text())
        assert errors is None, f"{name}: {errors}"
    mlbom = json.loads((project / champion_folder() / "mlbom.cdx.json").read_text())
    model = mlbom["metadata"]["component"]
    # then the model is a machine-learning-model with its data set, card, metrics and provenance
    assert model["type"] == "machine-learning-model", model["type"]
    assert [c["type"] for c in mlbom["components"]] == ["data"], mlbom["components"]
    kinds = {ref["type"] for ref in model["externalReferences"]}
    assert {"model-card", "quality-metrics", "attestation", "bom"} <= kinds, kinds
    assert model["modelCard"]["modelParameters"]["datasets"] == [{"ref": mlbom["components"][0]["bom-ref"]}]


def test_provenance_records_run_start_libraries_commit_and_sbom(project, monkeypatch):
    statement = json.loads((project / champion_folder() / "provenance.json").read_text())
    build = statement["predicate"]["buildDefinition"]
    details = statement["predicate"]["runDetails"]["metadata"]
    # then it names the Python and library versions, and the environment by its SBOM's digest
    assert (
        build["internalParameters"]["python"] and "scikit-learn" in build["internalParameters"]["libraries"]
    )
    sbom_digest = attestation.recorded_sbom_sha256(statement)
    assert sbom_digest == attestation.sbom.sha256(
        json.loads((project / champion_folder() / "sbom.cdx.json").read_text())
    )
    assert build["internalParameters"]["sourceCommit"] in {"none"} | {
        d["digest"]["gitCommit"] for d in build["resolvedDependencies"] if "gitCommit" in d["digest"]
    }
    assert details["startedOn"] <= details["finishedOn"], details


def test_provenance_start_is_the_pipeline_runs_not_govern(settings, policy, monkeypatch):
    # given a pipeline run that began at 2001-09-09T01:46:40Z (its UUIDv7 run id says so)
    millis = 1_000_000_000_000
    run_id = uuid.UUID(int=(millis << 80) | (7 << 76) | (2 << 62) | 1)
    monkeypatch.setenv(PARENT_RUN_ENV, str(run_id))
    for step in STEPS[:5]:
        run_step(step.name, settings, policy)
    details = json.loads(settings.paths.provenance.read_text())["predicate"]["runDetails"]["metadata"]
    assert details["startedOn"] == "2001-09-09T01:46:40Z", details


def test_strict_profile_fails_a_model_built_outside_git(workdir, settings):
    # given the strict provenance rule and a project that is not a git work tree
    policy_file = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(policy_file.read_text())
    policy["provenance"]["source_commit_required"] = True
    policy_file.write_text(yaml.safe_dump(policy))
    shutil.rmtree(workdir / ".git", ignore_errors=True)
    strict = load_policy()
    for step in STEPS[:4]:
        run_step(step.name, settings, strict)
    # then govern fails on the missing commit, and the statement says "none"
    with pytest.raises(GateFailed, match="source_commit_recorded"):
        run_step("govern", settings, strict)
    build = json.loads(settings.paths.provenance.read_text())["predicate"]["buildDefinition"]
    assert build["internalParameters"]["sourceCommit"] == "none", build["internalParameters"]


def test_licence_gate_fails_naming_a_distribution_the_allowlist_lacks(workdir, settings):
    # given an allowlist without the BSD licences (numpy, pandas, scikit-learn use them)
    policy_file = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(policy_file.read_text())
    policy["licences"]["allowed"] = ["MIT"]
    policy_file.write_text(yaml.safe_dump(policy))
    narrow = load_policy()
    for step in STEPS[:4]:
        run_step(step.name, settings, narrow)
    # then govern fails the licence gate and names a distribution and its licence
    with pytest.raises(GateFailed, match=r"licence gate failed: .*numpy==[^ ]+ \(BSD"):
        run_step("govern", settings, narrow)


def test_package_refuses_when_the_environment_changed_since_govern(settings, policy, monkeypatch):
    for step in STEPS[:5]:
        run_step(step.name, settings, policy)
    # given a library installed between govern and package
    sbom = attestation.environment_sbom()
    changed = sbom | {"components": sbom["components"][1:]}
    monkeypatch.setattr(attestation, "environment_sbom", lambda: changed)
    # then package refuses and releases nothing
    with pytest.raises(ProjectError, match="environment differs"):
        run_step("package", settings, policy)
    assert not release_versions(settings.paths.release), "released from another environment"
    assert not (settings.paths.release / "release-log.jsonl").exists(), "logged a release never made"


@pytest.mark.network
def test_locked_dependencies_have_no_known_vulnerabilities():
    # what CI runs as `make audit`; --strict, so a package it could not look up fails too
    result = subprocess.run(["make", "audit"], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
