"""A new step added the way the baked docs/extending.md says runs in the local pipeline,
reports to lineage, and keeps the Tekton manifests and the validator happy."""

import json
import sys

import joblib
import pytest
from conftest import package_of, run_in, run_project
from sklearn.ensemble import GradientBoostingClassifier

STEP_MODULE = '''"""Row count: how many rows the data set has, for the record."""

from pathlib import Path
from typing import TypedDict

from ..files import write_json
from ..tables import read_csv


class RowCountSummary(TypedDict):
    rows: int
    output: str


def row_count(raw: Path, report: Path) -> RowCountSummary:
    """Count the rows of `raw`; write the count to `report`."""
    summary: RowCountSummary = {"rows": len(read_csv(raw)), "output": str(report)}
    write_json(report, summary)
    return summary
'''

WRAPPER = '''

def _row_count(s: Settings, p: Policy, c: RunContext) -> Mapping:
    """Count the rows of the raw data set."""
    from ..steps.row_count import row_count

    return row_count(s.paths.raw_data, s.paths.row_count)
'''

PIPELINE_TASK = """    - name: row-count
      timeout: "10m"
      runAfter: ["validate-data"]
      taskRef:
        name: ml-step
      params:
        - name: step
          value: row-count
        - name: image
          value: $(params.image)
        - name: parent-run-id
          value: $(context.pipelineRun.uid)
      workspaces:
        - name: source
          workspace: source
"""


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update docs/extending.md and this test"
    path.write_text(text.replace(old, new, 1))


def add_row_count_step(project, src) -> None:
    """Points 1 to 3 of "Add a step": the module, its output path, its wrapper and place in STEPS."""
    # 1. the step's module
    (src / "steps" / "row_count.py").write_text(STEP_MODULE)
    # 2. a path for its output, in settings and params.yaml
    edit(
        src / "settings.py",
        '    validation_report: Path = Path("artifacts/reports/data_validation.json")\n',
        '    validation_report: Path = Path("artifacts/reports/data_validation.json")\n'
        '    row_count: Path = Path("artifacts/reports/row_count.json")\n',
    )
    edit(
        project / "params.yaml",
        "  validation_report: artifacts/reports/data_validation.json\n",
        "  validation_report: artifacts/reports/data_validation.json\n"
        "  row_count: artifacts/reports/row_count.json\n",
    )
    # 3. a wrapper and its place in STEPS
    steps = src / "steps" / "__init__.py"
    edit(steps, "\n\nSTEPS = (\n", WRAPPER + "\n\nSTEPS = (\n")
    edit(
        steps,
        '    Step("train",',
        '    Step("row-count", ("raw_data",), ("row_count",), _row_count),\n    Step("train",',
    )


def test_a_step_added_as_the_docs_say_runs_and_keeps_the_manifests_in_step(bake):
    # given a Tekton project and the steps of docs/extending.md's "Add a step"
    project = bake(orchestrators="tekton")
    src = project / "src" / package_of(project)
    assert "## Add a step" in (project / "docs" / "extending.md").read_text()
    add_row_count_step(project, src)
    # 4. the orchestrator: a pipeline task running ml-step, and the step's results (none)
    edit(project / "tekton" / "pipeline.yaml", "    - name: train\n", PIPELINE_TASK + "    - name: train\n")
    edit(
        src / "pipelines" / "tekton_step.py",
        '    "train": (Result(',
        '    "row-count": (),\n    "train": (Result(',
    )
    # when the pipeline runs locally
    result = run_project(project, "run")
    # then the new step ran in its place, wrote its output and reported to lineage
    assert "row-count ..." in result.stdout, result.stdout
    count = json.loads((project / "artifacts/reports/row_count.json").read_text())
    assert count["rows"] > 0, count
    events = (project / "artifacts/lineage/events.jsonl").read_text().splitlines()
    jobs = {json.loads(line)["job"]["name"] for line in events}
    assert "row-count" in jobs, jobs
    # and the project's own Tekton tests and the validator still pass
    tests = run_in(
        project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_tekton.py"
    )
    assert "passed" in tests.stdout, tests.stdout
    validated = run_in(project, sys.executable, "-m", "mlops_validator")
    assert "no findings" in validated.stdout, validated.stdout


ESTIMATOR = """

@estimator("gradient_boosting")
def gradient_boosting(model: "ModelSettings"):
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(random_state=model.random_state, **model.options)
"""

KFP_COMPONENT = """@dsl.component(base_image=IMAGE, install_kfp_package=False)
def row_count(params: str, policy: str, run_id: str, raw_data: Input[Dataset], report: Output[Artifact]):
    \"\"\"Count the rows of the raw data set.\"\"\"
    import importlib

    task = importlib.import_module("{package}.pipelines.kfp_task")
    task.run("row-count", params, policy, run_id, raw_data=raw_data.path, row_count=report.path)


"""

KFP_TASK = """        row_count_task = row_count(
            params=params, policy=policy, run_id=RUN_ID, raw_data=ingest_task.outputs["raw_data"]
        )
        _cluster_env(row_count_task, retries)
"""


@pytest.mark.slow
def test_a_new_kind_and_a_new_step_added_as_the_docs_say_run_under_kfp_local(bake):
    # given a KFP project, a new estimator kind ("Change the model") and a new step ("Add a step")
    project = bake(orchestrators="kfp")
    package = package_of(project)
    src = project / "src" / package
    models = src / "models.py"
    models.write_text(models.read_text() + ESTIMATOR)
    edit(project / "params.yaml", "  algorithm: logistic_regression", "  algorithm: gradient_boosting")
    edit(project / "params.yaml", "  options: {}", "  options: {n_estimators: 30, max_depth: 2}")
    add_row_count_step(project, src)
    # 4. a component in the Kubeflow pipeline definition, wired in the pipeline function
    kfp = src / "pipelines" / "kfp.py"
    factory = "def define_training_pipeline("
    edit(kfp, factory, KFP_COMPONENT.format(package=package) + factory)
    edit(kfp, "        train_task = train(", KFP_TASK + "        train_task = train(")
    # when the pipeline runs through kfp.local
    result = run_project(project, "run", "--engine", "kfp-local")
    # then the new step's task wrote its count, and train fitted the new kind with its options
    (run,) = (project / "artifacts" / "kfp").glob(f"{project.name}-*")
    count = json.loads((run / "row-count" / "report").read_text())
    assert count["rows"] > 0, count
    classifier = joblib.load(run / "train" / "model").named_steps["classifier"]
    assert isinstance(classifier, GradientBoostingClassifier) and classifier.n_estimators == 30, classifier
    assert "verdict=pass" in result.stdout, result.stdout
