"""Deploy: publish a release to the model store and pin the KServe InferenceService to it."""

import json
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.governance.policy import PROFILES
from {{ cookiecutter.package_name }}.project import SLUG
from {{ cookiecutter.package_name }}.release import champion, history
from {{ cookiecutter.package_name }}.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy/inferenceservice.yaml"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_publish_copies_the_release_to_the_store_and_deploy_manifest_pins_it(project, tmp_path):
    # given a model store on another volume and a canary share in params.yaml
    store = tmp_path / "store" / "releases"
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["release"] = {"canary_traffic_percent": 10}
    Path("params.yaml").write_text(yaml.safe_dump(params))
    version = champion(load_settings().paths.release)
    runner = CliRunner()
    # when the champion is published and the InferenceService rendered for it
    published = runner.invoke(cli, ["publish", "--to", str(store), "--reason", "deploy: commit abc"])
    rendered = runner.invoke(cli, ["deploy-manifest", "--releases", str(store), "--template", str(DEPLOY)])
    # then the store holds the release, readable by the server's user, as its champion, with the reason
    assert published.exit_code == 0 and rendered.exit_code == 0, published.output + rendered.output
    assert champion(store) == version and history(store)[-1]["reason"] == "deploy: commit abc"
    assert mode(store / version) == 0o755 and mode(store / version / "model.joblib") == 0o644
    # and the manifest names that release, its model digest, and the canary share
    manifest = yaml.safe_load(Path("artifacts/deploy/inferenceservice.yaml").read_text())
    predictor = manifest["spec"]["predictor"]
    (uri,) = [e["value"] for e in predictor["containers"][0]["env"] if e["name"] == "STORAGE_URI"]
    assert uri.endswith(f"/releases/{version}"), uri
    assert predictor["canaryTrafficPercent"] == 10, predictor
    digests = [v for k, v in manifest["metadata"]["annotations"].items() if k.endswith("/model-digest")]
    assert digests and digests[0].startswith("sha256:" + version), manifest["metadata"]


def test_deploy_manifest_serves_the_image_it_is_given_by_digest_and_refuses_a_tag(project):
    runner = CliRunner()
    built = "registry.example.com/team/model@sha256:" + "ab" * 32
    # when the pipeline passes the image it built, by digest
    rendered = runner.invoke(cli, ["deploy-manifest", "--template", str(DEPLOY), "--image", built])
    # then the predictor serves exactly that image
    assert rendered.exit_code == 0, rendered.output
    manifest = yaml.safe_load(Path("artifacts/deploy/inferenceservice.yaml").read_text())
    assert [c["image"] for c in manifest["spec"]["predictor"]["containers"]] == [built]
    # and a moving tag is one line, exit 2, the manifest left as it was
    before = Path("artifacts/deploy/inferenceservice.yaml").read_bytes()
    refused = runner.invoke(cli, ["deploy-manifest", "--template", str(DEPLOY), "--image", "model:latest"])
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
    assert "repository@sha256" in refused.output, refused.output
    assert Path("artifacts/deploy/inferenceservice.yaml").read_bytes() == before


def test_deploying_an_older_release_already_in_the_store_promotes_it_there(project, tmp_path):
    # given a store where release A was published, then B
    store = tmp_path / "store" / "releases"
    runner = CliRunner()
    first = champion(load_settings().paths.release)
    assert runner.invoke(cli, ["publish", "--to", str(store), "-m", "first"]).exit_code == 0
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["model"]["C"] = 0.5
    Path("params.yaml").write_text(yaml.safe_dump(params))
    for step in ("train", "evaluate", "govern", "package"):
        assert runner.invoke(cli, [step]).exit_code == 0, step
    assert runner.invoke(cli, ["publish", "--to", str(store), "-m", "second"]).exit_code == 0
    # when A is deployed by name from a checkout that no longer has it
    for path in load_settings().paths.release.iterdir():
        if path.name == first:
            for file in path.iterdir():
                file.unlink()
            path.rmdir()
    result = runner.invoke(cli, ["publish", "--to", str(store), "--release", first, "-m", "back to A"])
    # then it is the store's champion again, and the log says why
    assert result.exit_code == 0, result.output
    assert champion(store) == first and history(store)[-1]["reason"] == "back to A"


def test_rollback_in_the_store_and_a_cut_out_outside_it_are_one_command_each(project, tmp_path):
    # given a store with two published releases
    store = tmp_path / "store" / "releases"
    runner = CliRunner()
    first = champion(load_settings().paths.release)
    runner.invoke(cli, ["publish", "--to", str(store), "-m", "first"])
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["model"]["C"] = 0.5
    Path("params.yaml").write_text(yaml.safe_dump(params))
    for step in ("train", "evaluate", "govern", "package"):
        runner.invoke(cli, [step])
    runner.invoke(cli, ["publish", "--to", str(store), "-m", "second"])
    # when the rollback Task's command runs against the store
    result = runner.invoke(cli, ["rollback", "--releases", str(store), "-m", "incident"])
    rendered = runner.invoke(cli, ["deploy-manifest", "--releases", str(store), "--template", str(DEPLOY)])
    # then the pinned InferenceService serves the first release again
    assert result.exit_code == 0 and rendered.exit_code == 0, result.output + rendered.output
    manifest = yaml.safe_load(Path("artifacts/deploy/inferenceservice.yaml").read_text())
    (uri,) = [
        e["value"]
        for e in manifest["spec"]["predictor"]["containers"][0]["env"]
        if e["name"] == "STORAGE_URI"
    ]
    assert uri.endswith(f"/releases/{first}"), uri


def test_publish_refuses_a_model_worse_than_the_one_in_service(project, tmp_path):
    # given a store serving the good champion, and a fresh checkout (no local champion)
    # where a worse model (five stumps) passed govern because it had nothing to compare with
    store = tmp_path / "store" / "releases"
    runner = CliRunner()
    assert runner.invoke(cli, ["publish", "--to", str(store), "-m", "good"]).exit_code == 0
    in_service = champion(store)
    shutil.rmtree(load_settings().paths.release)
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["model"].update({"algorithm": "random_forest", "max_depth": 1, "n_estimators": 5})
    Path("params.yaml").write_text(yaml.safe_dump(params))
    policy = yaml.safe_load(Path("governance/policy.yaml").read_text())
    # this test is about the regression gate alone: null drops each of the profile's own
    # performance and fairness gates (strict's would stop the five stumps before publish)
    policy["performance"] = dict.fromkeys(PROFILES[policy["profile"]].performance)
    policy["fairness"]["gates"] = dict.fromkeys(PROFILES[policy["profile"]].fairness)
    Path("governance/policy.yaml").write_text(yaml.safe_dump(policy))
    for step in ("train", "evaluate", "govern", "package"):
        result = runner.invoke(cli, [step])
        assert result.exit_code == 0, f"{step}: {result.output}"
    # when the deploy Task publishes it to the store
    result = runner.invoke(cli, ["publish", "--to", str(store), "-m", "worse"])
    # then the regression gate against the model in service stops it, and the store is unchanged
    assert result.exit_code == 2, result.output
    assert "regression gate failed" in result.output and f"champion {in_service}" in result.output, (
        result.output
    )
    assert champion(store) == in_service and len(history(store)) == 1, "the store's champion moved"


# --- The cluster's signing key: deploy and the server trust only its public half -------

TASK = Path(__file__).resolve().parents[1] / "tekton/tasks/deploy.yaml"


def run_publish_step(tmp_path: Path, store: Path, signing_pub: Path | None):
    """Run the deploy Task's publish script here, as Tekton would, with `signing_pub` as the
    signing-pub workspace (None: not bound)."""
    import os
    import subprocess
    import sys

    import {{ cookiecutter.package_name }}

    task = yaml.safe_load(TASK.read_text())
    (step,) = [s for s in task["spec"]["steps"] if s["name"] == "publish"]
    script = step["script"]
    for result in ("release", "storage-uri"):
        script = script.replace(f"$(results.{result}.path)", str(tmp_path / result))
    Path("deploy").mkdir(exist_ok=True)  # the checkout's template, which deploy-manifest pins
    shutil.copy(DEPLOY, "deploy/inferenceservice.yaml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / SLUG
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {{ cookiecutter.package_name }} "$@"\n')
    shim.chmod(0o755)
    version = champion(load_settings().paths.release)
    model_sha256 = json.loads((load_settings().paths.release / version / "manifest.json").read_text())
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        # the image brings the package; here, the source tree these tests import
        "PYTHONPATH": str(Path({{ cookiecutter.package_name }}.__file__).resolve().parents[1]),
        "MODELS_PATH": str(store),
        "RELEASE": "",
        "REVISION": "0123abc",
        "MODEL_DIGEST": f"sha256:{model_sha256['model_sha256']}",
        "SERVED_IMAGE": "",
        "ALLOW_REVOKED": "",
        "SIGNING_PUB_BOUND": "false" if signing_pub is None else "true",
        "SIGNING_PUB_PATH": "" if signing_pub is None else str(signing_pub),
    }
    return subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)


def other_key(folder: Path) -> Path:
    """A signing-pub folder holding the public half of a key that signed nothing here."""
    from {{ cookiecutter.package_name }}.supply_chain.dsse import load_or_create_key

    load_or_create_key(folder / "release-signing.key")
    (folder / "release-signing.key").unlink()  # a ConfigMap holds the public half only
    return folder


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_deploy_publish_step_refuses_a_release_signed_by_another_key_with_one_line(project, tmp_path):
    # given a release signed with this project's key, and a cluster that trusts another
    models = tmp_path / "models"
    trusted = other_key(tmp_path / "signing-pub")
    # when deploy's publish step runs
    done = run_publish_step(tmp_path, models, trusted)
    # then it fails with one line naming the signature, and nothing reaches the model store
    assert done.returncode != 0, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "signature does not verify" in done.stderr, done.stderr
    assert not list(models.rglob("*")), "a release another key signed reached the model store"


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_deploy_publish_step_refuses_when_no_trusted_key_is_bound(project, tmp_path):
    # given no signing-pub workspace bound
    models = tmp_path / "models"
    # when deploy's publish step runs
    done = run_publish_step(tmp_path, models, None)
    # then it refuses in one line that names the ConfigMap, and publishes nothing
    assert done.returncode != 0, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{SLUG}-signing-pub" in done.stderr, done.stderr
    assert not list(models.rglob("*")), "an unverified release reached the model store"


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_deploy_publish_step_publishes_a_release_the_trusted_key_signed_and_the_copy_verifies(
    project, tmp_path
):
    # given the signing key's public half bound as the trusted key
    trusted = tmp_path / "signing-pub"
    trusted.mkdir()
    shutil.copy(".keys/release-signing.pub", trusted / "release-signing.pub")
    models = tmp_path / "models"
    # when deploy's publish step runs
    done = run_publish_step(tmp_path, models, trusted)
    # then the release is the store's champion, and the copy there verifies with the key,
    # as the InferenceService's server checks it (the store's own log records promotions only)
    assert done.returncode == 0, done.stdout + done.stderr
    store = models / SLUG / "releases"
    version = champion(store)
    verified = CliRunner().invoke(
        cli, ["verify", str(store / version), "--key", str(trusted / "release-signing.pub")]
    )
    assert verified.exit_code == 0, verified.output
    # and with another key it does not
    refused = CliRunner().invoke(
        cli, ["verify", str(store / version), "--key", str(other_key(tmp_path / "o") / "release-signing.pub")]
    )
    assert refused.exit_code == 2, refused.output


def test_the_inferenceservice_serves_only_releases_the_mounted_trusted_key_verifies(project):
    # given the InferenceService deploy applies
    manifest = yaml.safe_load(DEPLOY.read_text())
    predictor = manifest["spec"]["predictor"]
    (container,) = predictor["containers"]
    args = [str(arg) for arg in container["args"]]
    # then serve is given a public key, from the ConfigMap mounted read-only
    assert "--key" in args, args
    key = Path(args[args.index("--key") + 1])
    volumes = {v["name"]: v for v in predictor["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if key.parent == Path(m["mountPath"])]
    assert mount.get("readOnly") is True, mount
    assert volumes[mount["name"]]["configMap"]["name"] == f"{SLUG}-signing-pub", volumes[mount["name"]]
    assert not volumes[mount["name"]]["configMap"].get("optional"), "the server would start with no key"
    # and a revoked release is refused unless the deploy says why
    assert "--allow-revoked" not in args, args


def test_deploy_manifest_passes_allow_revoked_to_the_server_only_when_given(project):
    runner = CliRunner()
    # when the InferenceService is rendered with a reason, then without
    allowed = runner.invoke(
        cli, ["deploy-manifest", "--template", str(DEPLOY), "--allow-revoked", "incident 42"]
    )
    assert allowed.exit_code == 0, allowed.output
    args = yaml.safe_load(Path("artifacts/deploy/inferenceservice.yaml").read_text())["spec"]["predictor"][
        "containers"
    ][0]["args"]
    # then serve gets --allow-revoked with that reason, once
    assert args[-2:] == ["--allow-revoked", "incident 42"] and args.count("--allow-revoked") == 1, args
    plain = runner.invoke(cli, ["deploy-manifest", "--template", str(DEPLOY)])
    assert plain.exit_code == 0, plain.output
    manifest = yaml.safe_load(Path("artifacts/deploy/inferenceservice.yaml").read_text())
    assert "--allow-revoked" not in manifest["spec"]["predictor"]["containers"][0]["args"]
    # and a blank reason is one line, exit 2
    blank = runner.invoke(cli, ["deploy-manifest", "--template", str(DEPLOY), "--allow-revoked", " "])
    assert blank.exit_code == 2 and len(blank.output.strip().splitlines()) == 1, blank.output
