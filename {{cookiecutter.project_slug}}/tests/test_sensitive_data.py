"""Sensitive attributes feed the fairness gates and nothing else that is shared."""

import json
import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.governance.sensitive import attach
from {{ cookiecutter.package_name }}.release import champion

# the values the sample's sensitive attribute takes
GROUP_VALUE = re.compile(r"\b(female|male)\b")


def run_pipeline(workdir, monkeypatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0, result.output


def share_sensitive(workdir) -> None:
    path = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["sensitive_data"] = {"share_in_artifacts": True}
    path.write_text(yaml.safe_dump(policy))


def test_shared_artifacts_carry_no_value_of_a_sensitive_attribute(workdir, monkeypatch):
    # given the default policy (sensitive data not shared)
    # when the whole pipeline runs
    run_pipeline(workdir, monkeypatch)
    releases = workdir / "artifacts/releases"
    # then predictions, model card, lineage events and the release's card name no group
    shared = {
        "predictions.csv": workdir / "artifacts/metrics/predictions.csv",
        "model card (md)": workdir / "artifacts/reports/model_card.md",
        "model card (json)": workdir / "artifacts/reports/model_card.json",
        "lineage events": workdir / "artifacts/lineage/events.jsonl",
        "released model card": releases / champion(releases) / "model_card.md",
    }
    for name, path in shared.items():
        assert path.is_file(), f"{name} was not written"
        found = GROUP_VALUE.search(path.read_text())
        assert found is None, f"{name} carries the sensitive value {found and found.group()!r}"
    # and the model's inputs exclude the attribute
    assert "sex" not in pd.read_csv(shared["predictions.csv"]).columns, "predictions.csv has the column"


def test_governance_report_keeps_the_per_group_evidence_as_aggregates(workdir, monkeypatch):
    # given the default policy, when the pipeline runs
    run_pipeline(workdir, monkeypatch)
    # then the governance report has counts and rates per group, and no rows
    report = json.loads((workdir / "artifacts/reports/governance.json").read_text())
    by_group = report["fairness"]["sex"]["by_group"]
    assert set(by_group) == {"female", "male"}, f"groups in the report: {set(by_group)}"
    for group, row in by_group.items():
        assert row["count"] >= 100 and 0 <= row["selection_rate"] <= 1, f"{group}: {row}"
    assert "row" not in json.dumps(report["fairness"]), "the report names individual rows"


def test_policy_can_allow_sharing_the_attribute(workdir, monkeypatch):
    # given a policy that allows sharing sensitive data
    share_sensitive(workdir)
    # when the pipeline runs
    run_pipeline(workdir, monkeypatch)
    # then predictions.csv and the model card carry the groups
    predictions = pd.read_csv(workdir / "artifacts/metrics/predictions.csv")
    assert set(predictions["sex"]) == {"female", "male"}, "predictions lack the shared attribute"
    card = json.loads((workdir / "artifacts/reports/model_card.json").read_text())
    assert set(card["quantitative_analyses"]["by_attribute"]["sex"]["by_group"]) == {"female", "male"}


def test_fairness_join_refuses_predictions_from_another_data_set():
    # given predictions that name a row the raw data does not have
    raw = pd.DataFrame({"sex": ["female", "male"]})
    predictions = pd.DataFrame({"row": [0, 5], "y_true": [0, 1], "y_pred": [0, 1]})
    # when the attributes are joined back, then one clear error
    with pytest.raises(ProjectError, match="rows the raw data does not have"):
        attach(predictions, raw, ("sex",))


def test_fairness_join_puts_each_rows_attribute_back():
    # given predictions in another order than the raw data
    raw = pd.DataFrame({"sex": ["female", "male", "female"]})
    predictions = pd.DataFrame({"row": [2, 1], "y_true": [0, 1], "y_pred": [0, 1]})
    # when joined, then each prediction gets its own row's attribute
    assert list(attach(predictions, raw, ("sex",))["sex"]) == ["female", "male"], "rows mismatched"
