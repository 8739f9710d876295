"""docs/extending.md, followed as written: a new estimator kind, a left-out column."""

import joblib
import pytest
import yaml
from click.testing import CliRunner
from sklearn.ensemble import GradientBoostingClassifier

from {{ cookiecutter.package_name }} import models
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.settings import load_settings


@pytest.fixture
def registry(monkeypatch):
    """The estimator registry, restored after the test (kinds added here do not leak)."""
    monkeypatch.setattr(models, "ESTIMATORS", dict(models.ESTIMATORS))
    return models.ESTIMATORS


def _set_params(workdir, section: str, **values) -> None:
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params[section].update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def test_a_new_estimator_kind_joins_by_one_registered_function_and_the_pipeline_runs_it(workdir, registry):
    # given the recipe of docs/extending.md: one function registered under a new kind
    @models.estimator("gradient_boosting")
    def gradient_boosting(model):
        from sklearn.ensemble import GradientBoostingClassifier

        return GradientBoostingClassifier(random_state=model.random_state, **model.options)

    _set_params(workdir, "model", algorithm="gradient_boosting", options={"n_estimators": 50, "max_depth": 2})
    # when the whole pipeline runs
    result = CliRunner().invoke(cli, ["run"])
    # then it trains that estimator, with its options, and the release passes the gates
    assert result.exit_code == 0, result.output
    settings = load_settings()
    classifier = joblib.load(settings.paths.model).named_steps["classifier"]
    assert isinstance(classifier, GradientBoostingClassifier), f"trained {type(classifier).__name__}"
    assert classifier.n_estimators == 50, "model.options did not reach the estimator"
    released = list(settings.paths.release.glob("*/model.joblib"))
    assert released, "the new kind was not released"


def test_an_unknown_estimator_kind_is_one_line_with_a_suggestion(workdir):
    # given a misspelt kind in params.yaml
    _set_params(workdir, "model", algorithm="random_forrest")
    # when any step runs
    result = CliRunner().invoke(cli, ["train"])
    # then one line names the kind and suggests the close one, exit 2
    assert result.exit_code == 2, result.output
    assert "did you mean random_forest" in result.output, result.output
    assert "Traceback" not in result.output, "a settings mistake should not show a traceback"


def test_an_option_the_estimator_lacks_is_one_line(workdir):
    # given an option the logistic regression does not take
    _set_params(workdir, "model", options={"n_trees": 5})
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest"]).exit_code == 0
    # when train runs, then one line names the kind, exit 2
    result = runner.invoke(cli, ["train"])
    assert result.exit_code == 2 and "logistic_regression" in result.output, result.output


def test_excluded_columns_never_reach_the_model(workdir):
    # given the sample with an ID column, excluded in params.yaml
    from {{ cookiecutter.package_name }} import sample_data

    sample_data.generate(800, seed=5).rename_axis("applicant_id").reset_index().to_csv(
        workdir / "mine.csv", index=False
    )
    _set_params(workdir, "data", source="mine.csv", exclude=["applicant_id"])
    runner = CliRunner()
    for step in ("ingest", "train"):
        assert runner.invoke(cli, [step]).exit_code == 0, step
    # then the saved model's inputs hold neither the ID, the label nor the sensitive attribute
    model = joblib.load(load_settings().paths.model)
    inputs = set(model.named_steps["preprocess"].feature_names_in_)
    assert not inputs & {"applicant_id", "default", "sex"}, f"left-out columns reached the model: {inputs}"
    assert "income" in inputs, "an ordinary column was left out"


def test_excluding_every_column_is_one_error():
    # given settings that leave nothing for the model
    import pandas as pd

    from {{ cookiecutter.package_name }}.features import feature_columns
    from {{ cookiecutter.package_name }}.settings import DataSettings

    frame = pd.DataFrame({"default": [0, 1], "sex": ["a", "b"], "id": [1, 2]})
    # then feature_columns says so
    with pytest.raises(ProjectError, match="no column is left"):
        feature_columns(frame, DataSettings(exclude=("id",)))
