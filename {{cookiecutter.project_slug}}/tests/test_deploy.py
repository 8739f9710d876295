"""Deploy: publish a release to the model store and pin the KServe InferenceService to it."""

import shutil
import stat
from pathlib import Path

import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.governance.policy import PROFILES
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
