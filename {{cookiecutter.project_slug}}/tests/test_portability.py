"""Portability: each release holds model.onnx, which onnxruntime must score as sklearn scores model.joblib."""

import copy
import json
import shutil
import subprocess
import sys

import joblib
import numpy as np
import onnxruntime
import pytest
from click.testing import CliRunner
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from conftest import edit_policy
from {{ cookiecutter.package_name }} import portability, sample_data
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import InvalidFile, ProjectError
from {{ cookiecutter.package_name }}.features import feature_columns, labels, preprocessor
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.models import ESTIMATORS, build_model
from {{ cookiecutter.package_name }}.release import champion, release_versions
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import package as package_step
from {{ cookiecutter.package_name }}.tables import read_csv, split


def onnxruntime_scores(onnx_file, model, rows) -> np.ndarray:
    """The oracle: onnxruntime run by hand, one [N, 1] tensor per input column, as model.onnx documents."""
    session = onnxruntime.InferenceSession(onnx_file.read_bytes(), providers=["CPUExecutionProvider"])
    kinds = {i.name: i.type for i in session.get_inputs()}
    feeds = {
        name: rows[[name]].to_numpy(dtype=np.float64)
        if kind == "tensor(double)"
        else rows[[name]].astype(object).fillna("").astype(str).to_numpy()
        for name, kind in kinds.items()
    }
    return session.run(["probabilities"], feeds)[0][:, 1]


def test_a_release_holds_model_onnx_that_onnxruntime_scores_as_sklearn_does(project):
    # given the release the pipeline wrote, and its held-out rows
    settings = load_settings()
    release = settings.paths.release / champion(settings.paths.release)
    model = joblib.load(release / "model.joblib")
    _, held_out = split(read_csv(settings.paths.raw_data), settings.data)
    # when sklearn and onnxruntime score them
    expected = model.predict_proba(held_out)[:, 1]
    gap = np.max(np.abs(expected - onnxruntime_scores(release / "model.onnx", model, held_out)))
    # then they agree within the policy's limit, and the release records that gap as evidence
    limit = load_policy().portability.onnx_parity_max_abs_diff
    assert gap <= limit, f"onnxruntime differs from sklearn by {gap}"
    recorded = json.loads((release / "portability.json").read_text())
    assert recorded["passed"] and recorded["limit"] == limit, recorded
    assert recorded["rows"] == len(held_out), recorded
    assert recorded["max_abs_diff"] == pytest.approx(gap, abs=1e-12), recorded
    manifest = json.loads((release / "manifest.json").read_text())
    assert {"model.onnx", "portability.json"} <= set(manifest["sha256"]), manifest["sha256"]


# Scores a release's model.onnx with onnxruntime and numpy alone: scikit-learn, joblib and the
# project's package cannot be imported (a later reader of the release may have none of them).
STANDALONE_SCORER = """
import json, sys
for blocked in ("sklearn", "joblib", "{{ cookiecutter.package_name }}"):
    sys.modules[blocked] = None
import numpy as np
import onnxruntime

columns = json.loads(open(sys.argv[2]).read())
session = onnxruntime.InferenceSession(open(sys.argv[1], "rb").read(), providers=["CPUExecutionProvider"])
feeds = dict()
for tensor in session.get_inputs():
    values = columns[tensor.name]
    if tensor.type == "tensor(double)":
        feeds[tensor.name] = np.array(values, dtype=np.float64).reshape(-1, 1)
    else:
        text = ["" if v is None else str(v) for v in values]
        feeds[tensor.name] = np.array(text, dtype=object).reshape(-1, 1)
print(json.dumps(session.run(["probabilities"], feeds)[0][:, 1].tolist()))
"""


def test_a_released_onnx_model_scores_without_scikit_learn_or_the_project(project, tmp_path):
    # given the champion release and its held-out rows, as plain JSON columns
    settings = load_settings()
    release = settings.paths.release / champion(settings.paths.release)
    _, held_out = split(read_csv(settings.paths.raw_data), settings.data)
    rows = tmp_path / "rows.json"
    rows.write_text(
        json.dumps(
            {c: held_out[c].astype(object).where(held_out[c].notna(), None).tolist() for c in held_out}
        )
    )
    # when a fresh interpreter that cannot import scikit-learn, joblib or this package scores model.onnx
    command = [sys.executable, "-I", "-c", STANDALONE_SCORER, str(release / "model.onnx"), str(rows)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # then its scores are the released sklearn model's, within the policy's limit
    expected = joblib.load(release / "model.joblib").predict_proba(held_out)[:, 1]
    gap = np.max(np.abs(expected - np.array(json.loads(result.stdout))))
    assert gap <= load_policy().portability.onnx_parity_max_abs_diff, gap


def test_verify_passes_on_a_release_with_model_onnx_and_names_it_once_altered(project):
    # given the clean release, whose ML-BOM references the ONNX export by digest
    settings = load_settings()
    release = settings.paths.release / champion(settings.paths.release)
    bom = json.loads((release / "mlbom.cdx.json").read_text())
    references = {r["url"] for r in bom["metadata"]["component"]["externalReferences"]}
    assert {"model.onnx", "portability.json"} <= references, references
    # when verify checks it, then it passes
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output
    # and when model.onnx is swapped, verify fails naming it: the signature covers it
    (release / "model.onnx").write_bytes(b"not the exported model")
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 2 and "model.onnx" in result.output, result.output


def test_package_refuses_in_one_line_an_onnx_export_that_is_another_models(project, monkeypatch):
    # given a governed model, no release yet, and an export that hands over a different model's ONNX
    settings = load_settings()
    root = settings.paths.release
    shutil.rmtree(root)
    other = copy.deepcopy(joblib.load(settings.paths.model))
    other.named_steps["classifier"].coef_ = other.named_steps["classifier"].coef_ * 2
    monkeypatch.setattr(package_step, "to_onnx", lambda model: portability.to_onnx(other))
    # when package runs
    result = CliRunner().invoke(cli, ["package"])
    # then it exits 2 with one line naming the gate and its limit, and nothing is released
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "onnx_parity_max_abs_diff" in lines[0] and "nothing released" in lines[0], lines
    assert release_versions(root) == [], "a release was written"
    assert not root.exists() or not any(root.iterdir()), f"package left {list(root.iterdir())}"


def test_the_parity_limit_cannot_be_negative_and_zero_refuses_a_float_export(workdir, settings):
    # given a policy whose parity limit is negative, then loading it fails naming the field
    edit_policy(workdir, lambda p: p.update(portability={"onnx_parity_max_abs_diff": -1.0e-4}))
    with pytest.raises(InvalidFile, match="onnx_parity_max_abs_diff"):
        load_policy()
    # given a random forest (onnxruntime's trees answer in 32-bit floats) checked against a zero limit
    frame = sample(settings)
    train_rows, held_out = split(frame, settings.data)
    forest = build_model(
        feature_columns(frame, settings.data),
        settings.model.model_copy(update={"algorithm": "random_forest", "n_estimators": 10}),
    )
    forest.fit(train_rows, labels(train_rows, settings.data))
    exported = portability.to_onnx(forest)
    # then the default limit passes it and a zero limit refuses it in one line
    assert portability.check_parity(exported, forest, held_out, 1.0e-4)["passed"]
    with pytest.raises(ProjectError, match="above portability.onnx_parity_max_abs_diff 0") as refused:
        portability.check_parity(exported, forest, held_out, 0.0)
    assert "\n" not in str(refused.value), str(refused.value)


def sample(settings):
    """The embedded sample, 2,000 rows: enough to fit every kind in a second."""
    return sample_data.generate(rows=2000, seed=settings.data.seed)


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_every_kind_exports_within_the_limit_with_missing_values(kind, settings):
    # given each registered kind fitted on the sample, and held-out rows missing a number and a category
    frame = sample(settings)
    train_rows, held_out = split(frame, settings.data)
    held_out = held_out.copy()
    held_out.loc[held_out.index[:5], "income"] = np.nan
    held_out.loc[held_out.index[3:9], "employment"] = np.nan
    model = build_model(
        feature_columns(frame, settings.data),
        settings.model.model_copy(update={"algorithm": kind, "n_estimators": 20}),
    )
    model.fit(train_rows, labels(train_rows, settings.data))
    # when it is exported and checked, then onnxruntime agrees with sklearn within the default limit
    parity = portability.check_parity(portability.to_onnx(model), model, held_out, 1.0e-4)
    assert parity["max_abs_diff"] <= 1.0e-4, parity


class Unconvertible(ClassifierMixin, BaseEstimator):
    """A classifier skl2onnx has never heard of."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_an_estimator_skl2onnx_cannot_convert_is_refused_in_one_line_naming_it(settings):
    # given a pipeline whose classifier no converter knows
    frame = sample(settings)
    features = feature_columns(frame, settings.data)
    model = Pipeline([("preprocess", preprocessor(features)), ("classifier", Unconvertible())])
    model.fit(frame, labels(frame, settings.data))
    # when it is exported, then one line names the estimator
    with pytest.raises(ProjectError, match="Unconvertible cannot be exported to ONNX") as refused:
        portability.to_onnx(model)
    assert "\n" not in str(refused.value), str(refused.value)
