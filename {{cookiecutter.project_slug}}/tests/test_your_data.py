"""Adopting a table of your own: init-data, validation, labels, per-attribute gates, data.source."""

import http.server
import json
import threading
from functools import partial

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }} import sample_data
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import GateFailed, ProjectError
from {{ cookiecutter.package_name }}.governance.policy import PROFILES, load_policy
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import run_step
from {{ cookiecutter.package_name }}.steps.ingest import ingest
from {{ cookiecutter.package_name }}.steps.validate_data import validate_data


def census(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A table unlike the sample: an ID, text labels, 4 groups of race, blanks in two columns."""
    rng = np.random.default_rng(seed)
    education = rng.choice(["school", "college", "masters"], rows)
    hours = rng.normal(40, 8, rows).round(1)
    logit = -1.5 + 0.08 * (hours - 40) + 1.2 * (education == "masters")
    frame = pd.DataFrame(
        {
            "person_id": np.arange(rows) + 1000,
            "hours": hours,
            "education": education,
            "race": rng.choice(["a", "b", "c", "d"], rows),
            "income": np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), ">50K", "<=50K"),
        }
    )
    frame.loc[rng.random(rows) < 0.03, "hours"] = np.nan
    frame.loc[rng.random(rows) < 0.03, "education"] = None
    return frame


def init_census(workdir, *extra: str):
    census().to_csv(workdir / "census.csv", index=False)
    args = ["init-data", "census.csv", "--target", "income", "--positive-label", ">50K"]
    args += ["--sensitive", "race"]
    return CliRunner().invoke(cli, [*args, "--exclude", "person_id", *extra])


def write_card(workdir) -> None:
    """What a person does after init-data: rewrite the model card text the template wrote."""
    path = workdir / "governance/policy.yaml"
    path.write_text(path.read_text().replace("[template] ", ""))


def template_card(workdir, profile: str | None = None) -> None:
    """A policy whose model card still holds text marked as the template's (as a new project's does)."""
    path = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["model_card"]["intended_use"]["primary_uses"] = "[template] Demonstrate the pipeline."
    if profile:
        policy["profile"] = profile
    path.write_text(yaml.safe_dump(policy))


def test_init_data_writes_schema_and_settings_keeping_comments_and_the_pipeline_runs(workdir):
    # given a project with comments in params.yaml, and the template's model card text
    template_card(workdir)
    (workdir / "params.yaml").write_text("# keep me\n" + (workdir / "params.yaml").read_text())
    # when init-data adopts a census-like table
    result = init_census(workdir)
    # then both files hold the inferred schema and settings, comments and other settings kept
    assert result.exit_code == 0, result.output
    assert (workdir / "params.yaml").read_text().startswith("# keep me"), "a comment was lost"
    settings, policy = load_settings(), load_policy()
    assert (settings.data.target, settings.data.positive_label) == ("income", ">50K"), settings.data
    assert settings.data.exclude == ("person_id",) and settings.data.sensitive_features == ("race",)
    columns = policy.data.columns
    assert columns["hours"].nullable and columns["education"].nullable, "blanks should be allowed"
    assert set(columns["income"].allowed) == {">50K", "<=50K"}, columns["income"]
    assert policy.performance_limits(), "the profile's limits should be untouched"
    # and the review names what a person should look at
    assert "model card gate fails" in result.output, result.output
    # when the person rewrites the card and runs the pipeline, it trains on blanks and text labels
    write_card(workdir)
    run = CliRunner().invoke(cli, ["run"])
    assert "Traceback" not in run.output, run.output
    assert run.exit_code in (0, 2), run.output
    metrics = json.loads(settings.paths.metrics.read_text())
    assert metrics["roc_auc"] > 0.6, f"the model should learn from hours and education: {metrics}"


def test_labels_and_values_yaml_reads_as_booleans_are_adopted_as_text(workdir):
    # given a churn table labelled yes/no, with a column of on/off (booleans to YAML 1.1)
    frame = census().assign(income=lambda f: np.where(f["income"] == ">50K", "yes", "no"))
    frame["autopay"] = np.where(frame["hours"] > 40, "on", "off")
    frame.to_csv(workdir / "churn.csv", index=False)
    # when init-data adopts it
    args = ["init-data", "churn.csv", "--target", "income", "--positive-label", "yes"]
    result = CliRunner().invoke(cli, [*args, "--exclude", "person_id"])
    assert result.exit_code == 0, result.output
    # then the settings and the schema read back as the text in the table
    settings, policy = load_settings(), load_policy()
    assert settings.data.positive_label == "yes", settings.data
    assert set(policy.data.columns["income"].allowed) == {"yes", "no"}, policy.data.columns["income"]
    assert set(policy.data.columns["autopay"].allowed) == {"on", "off"}, policy.data.columns["autopay"]
    # and the table passes its own schema
    for step in ("ingest", "validate-data"):
        step_result = CliRunner().invoke(cli, [step])
        assert step_result.exit_code == 0, step_result.output


def test_init_data_refuses_blanks_in_a_sensitive_attribute_and_writes_nothing(workdir):
    # given a table whose sensitive attribute is blank in some rows
    frame = census()
    frame.loc[:9, "race"] = None
    frame.to_csv(workdir / "census.csv", index=False)
    before = (workdir / "params.yaml").read_text()
    # when init-data adopts it with that attribute sensitive
    args = ["init-data", "census.csv", "--target", "income", "--positive-label", ">50K"]
    result = CliRunner().invoke(cli, [*args, "--sensitive", "race", "--exclude", "person_id"])
    # then it is one line naming the attribute and the count, and nothing is written
    assert result.exit_code == 2, result.output
    assert "sensitive attribute race has 10 empty value(s): fill them" in result.output, result.output
    assert "Traceback" not in result.output and (workdir / "params.yaml").read_text() == before


def test_init_data_reports_every_mistake_at_once_and_writes_nothing(workdir):
    # given a table, and options naming columns it does not have, without a positive label
    census().to_csv(workdir / "census.csv", index=False)
    before = (workdir / "params.yaml").read_text(), (workdir / "governance/policy.yaml").read_text()
    # when init-data runs
    args = ["init-data", "census.csv", "--target", "income", "--sensitive", "sex,race", "--exclude", "id"]
    result = CliRunner().invoke(cli, args)
    # then each mistake is one line, exit 2, and neither file changed
    assert result.exit_code == 2, result.output
    for words in ("--sensitive sex", "--exclude id", "--positive-label"):
        assert words in result.output, f"{words!r} not reported:\n{result.output}"
    assert "Traceback" not in result.output
    after = (workdir / "params.yaml").read_text(), (workdir / "governance/policy.yaml").read_text()
    assert after == before, "init-data wrote although it failed"


def test_init_data_points_at_an_id_column_and_small_groups(workdir):
    # given a table whose ID is not excluded and whose groups are small for the strict limit
    census(rows=600).to_csv(workdir / "census.csv", index=False)
    path = workdir / "governance/policy.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | {"profile": "strict"}))
    args = [
        "init-data",
        "census.csv",
        "--target",
        "income",
        "--positive-label",
        ">50K",
        "--sensitive",
        "race",
    ]
    result = CliRunner().invoke(cli, args)
    # then the review names both
    assert result.exit_code == 0, result.output
    assert "person_id: every value is different" in result.output, result.output
    assert "race: group(s)" in result.output and "smallest_group_size" in result.output, result.output


def test_validate_data_reports_every_defect_at_once_naming_column_check_example_and_file(
    workdir, settings, policy
):
    # given the sample with a defect of each kind, as the user's own file
    frame = sample_data.generate(400, seed=3)
    frame = frame.drop(columns=["income", "loan_amount"]).assign(
        extra_a=1,
        extra_b=2,
        late_payments="many",
        age=frame["age"].astype("float").where(frame.index % 7 != 0),
        employment=frame["employment"].where(frame.index % 5 != 0, "astronaut"),
        default=frame["default"].where(frame.index % 9 != 0, 7),
    )
    frame.to_csv(workdir / "mine.csv", index=False)
    data = settings.data.model_copy(update={"source": "mine.csv"})
    ingest(data, settings.paths.raw_data)
    # when it is validated
    with pytest.raises(ProjectError) as error:
        validate_data(settings.paths.raw_data, settings.paths.validation_report, policy.data, "mine.csv")
    message = str(error.value)
    # then one run reports every problem, each line naming the user's file
    expected = [
        "column income is missing",
        "column loan_amount is missing",
        "column extra_a is not in the schema",
        "column extra_b is not in the schema",
        "column late_payments should hold int64 values, found 'many'",
        "column age has",
        "column employment fails isin",
        "'astronaut'",
        "column default fails isin",
    ]
    for words in expected:
        assert words in message, f"{words!r} not reported:\n{message}"
    lines = message.splitlines()
    assert all(line.startswith("mine.csv: ") for line in lines[1:]), message
    assert "raw.csv:" not in message, "messages should name the user's file, not the working copy"


def test_text_labels_need_a_declared_positive_label(workdir, settings):
    # given a sample whose label is text
    frame = sample_data.generate(600, seed=2)
    frame["default"] = frame["default"].map({0: "repaid", 1: "defaulted"})
    frame.to_csv(workdir / "mine.csv", index=False)
    data = settings.data.model_copy(update={"source": "mine.csv"})
    ingest(data, settings.paths.raw_data)
    from {{ cookiecutter.package_name }}.steps.train import train

    # when train runs without a positive label, then one error asks for one
    with pytest.raises(ProjectError, match="positive_label"):
        train(settings.paths.raw_data, settings.paths.model, settings.paths.footprint, data, settings.model)
    # and with one declared, it trains
    labelled = data.model_copy(update={"positive_label": "defaulted"})
    summary = train(
        settings.paths.raw_data, settings.paths.model, settings.paths.footprint, labelled, settings.model
    )
    assert summary["train_rows"] > 0, summary


def test_switching_the_profile_switches_the_limits_and_the_report_names_their_source(workdir, settings):
    # given the profiles, ordered from strict to minimal
    strict, standard, minimal = (PROFILES[name].fairness for name in ("strict", "standard", "minimal"))
    for metric in ("demographic_parity_difference", "equalized_odds_difference"):
        assert strict[metric].max <= standard[metric].max <= minimal[metric].max, metric
    # when the policy names minimal and changes one limit itself
    path = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(path.read_text())
    policy.update(profile="minimal", performance={"recall": {"min": 0.01}})
    path.write_text(yaml.safe_dump(policy))
    for name in ("ingest", "validate-data", "train", "evaluate"):
        run_step(name, settings, load_policy())
    summary = run_step("govern", settings, load_policy())
    # then the gates are minimal's, plus the policy's own, each saying where its limit came from
    limits = {(g["metric"], g["source"]) for g in summary["gates"] if g["gate"] == "performance"}
    assert limits == {("roc_auc", "profile minimal"), ("recall", "policy.yaml performance")}, limits
    parity = next(g for g in summary["gates"] if g["metric"] == "demographic_parity_difference")
    assert parity["limit"] == minimal["demographic_parity_difference"].max, parity
    assert "profile minimal" in settings.paths.governance_html.read_text(), "the report hides the source"


def test_fairness_limits_can_differ_per_attribute(workdir, settings):
    # given a policy whose default asks for big groups, relaxed for sex only
    path = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["fairness"] = {
        "gates": {"smallest_group_size": {"min": 100000}},
        "attributes": {"sex": {"smallest_group_size": {"min": 10}}},
    }
    path.write_text(yaml.safe_dump(policy))
    for name in ("ingest", "validate-data", "train", "evaluate"):
        run_step(name, settings, load_policy())
    # when govern runs, then sex's own limit applies and the gate passes
    summary = run_step("govern", settings, load_policy())
    gate = next(g for g in summary["gates"] if g["metric"] == "smallest_group_size")
    assert gate["limit"] == 10 and gate["source"] == "policy.yaml fairness.attributes.sex", gate


@pytest.mark.parametrize(("profile", "fails"), [("standard", True), ("strict", True), ("minimal", False)])
def test_a_model_card_with_template_text_fails_on_your_own_data(workdir, settings, profile, fails):
    # given the sample as the user's own file, and the card text the template wrote
    sample_data.generate(3000, seed=42).to_csv(workdir / "mine.csv", index=False)
    own = settings.model_copy(update={"data": settings.data.model_copy(update={"source": "mine.csv"})})
    template_card(workdir, profile)
    policy = load_policy()
    for name in ("ingest", "validate-data", "train", "evaluate"):
        run_step(name, own, policy)
    # when govern runs
    if fails:
        with pytest.raises(GateFailed, match="template_text_fields"):
            run_step("govern", own, policy)
    else:
        # then under minimal it passes with a warning the report carries
        summary = run_step("govern", own, policy)
        assert any("template_text_fields" in line for line in summary["warnings"]), summary["warnings"]


def test_data_source_can_be_an_http_url(workdir, settings):
    # given a CSV served over http on this machine
    sample_data.generate(150, seed=4).to_csv(workdir / "served.csv", index=False)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(workdir))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served.csv"
        # when ingest reads it, then the raw file is its copy
        ingest(settings.data.model_copy(update={"source": url}), settings.paths.raw_data)
        assert settings.paths.raw_data.read_bytes() == (workdir / "served.csv").read_bytes()
        # and a missing file is one clear error naming the status
        with pytest.raises(ProjectError, match="404"):
            ingest(settings.data.model_copy(update={"source": url + ".gone"}), settings.paths.raw_data)
    finally:
        server.shutdown()


def test_an_unsupported_scheme_is_one_error(settings):
    with pytest.raises(ProjectError, match="ftp:// is not supported"):
        data = settings.data.model_copy(update={"source": "ftp://example.invalid/x.csv"})
        ingest(data, settings.paths.raw_data)


def test_a_params_typo_suggests_the_known_key(workdir):
    # given a misspelt key in params.yaml
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["souce"] = params["data"].pop("source")
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when a step runs, then the error suggests the key it resembles
    result = CliRunner().invoke(cli, ["ingest"])
    assert result.exit_code == 2 and "did you mean source?" in result.output, result.output


def test_validate_reports_params_that_disagree_with_the_policy(workdir):
    # given a sensitive attribute the policy's schema does not know
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["sensitive_features"] = ["sex", "religion"]
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when validate-data runs, then it names the attribute, with the data's own result
    assert CliRunner().invoke(cli, ["ingest"]).exit_code == 0
    result = CliRunner().invoke(cli, ["validate-data"])
    assert result.exit_code == 2 and "sensitive_features names religion" in result.output, result.output


def test_package_before_govern_names_govern(workdir):
    # when package runs before any govern, then the error says which step to run
    result = CliRunner().invoke(cli, ["package"])
    assert result.exit_code == 2 and "run govern first" in result.output, result.output
