"""Serving: the v2 server answers like evaluate, refuses bad requests one reason at a time, logs, cuts out."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.release import champion, load_release
from {{ cookiecutter.package_name }}.serving import MODEL_NAME
from {{ cookiecutter.package_name }}.serving.inference_log import InferenceLog
from {{ cookiecutter.package_name }}.serving.server import ModelSlot, make_server
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.tables import split

PROJECT = Path(__file__).resolve().parents[1]
INFER = f"/v2/models/{MODEL_NAME}/infer"


@contextmanager
def serving(keep_sensitive: bool = False, **limits):
    """`serve`'s server on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    settings = load_settings()
    s = settings.serving
    log = InferenceLog(
        s.inference_log, limits.get("log_max_bytes", s.log_max_bytes), s.log_backups, keep_sensitive
    )
    server = make_server(
        "127.0.0.1",
        0,
        ModelSlot(settings.paths.release, limits.get("fixed")),
        log,
        s.cut_out_file,
        limits.get("max_body_bytes", s.max_body_bytes),
        limits.get("max_rows", s.max_rows),
    )
    # polled often: shutdown() waits up to one poll interval, half a second by default
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def call(url: str, body: bytes | dict | None = None, method: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def v2_request(rows: pd.DataFrame, signature: dict, request_id: str | None = None) -> dict:
    """A v2 inference request, one tensor per model input column, as a client writes it."""
    inputs = []
    for spec in signature["inputs"]:
        values = rows[spec["name"]].tolist()
        inputs.append(
            {"name": spec["name"], "shape": [len(values)], "datatype": spec["datatype"], "data": values}
        )
    return {"id": request_id, "inputs": inputs} if request_id else {"inputs": inputs}


def held_out(project: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test split and evaluate's predictions for it, row for row."""
    settings = load_settings()
    _, test_rows = split(pd.read_csv(settings.paths.raw_data), settings.data)
    return test_rows, pd.read_csv(settings.paths.predictions)


def signature_of(project: Path) -> dict:
    root = load_settings().paths.release
    return load_release(root / champion(root)).signature


def tensor(response: dict, name: str) -> list:
    return next(output["data"] for output in response["outputs"] if output["name"] == name)


@pytest.mark.parametrize("rows", [1, 1000])
def test_serve_answers_what_evaluate_predicted_for_the_same_rows(project, rows):
    # given the released champion and the held-out rows evaluate scored
    test_rows, predictions = held_out(project)
    body = v2_request(test_rows.head(rows), signature_of(project), "same-rows")
    # when a client sends them to the v2 infer endpoint
    with serving() as url:
        status, response = call(url + INFER, body)
    # then the labels are evaluate's and the probabilities agree to its 6 decimals
    assert status == 200, response
    assert response["model_name"] == MODEL_NAME and response["id"] == "same-rows", response
    assert response["model_version"] == champion(load_settings().paths.release), response
    assert tensor(response, "predict") == predictions["y_pred"].head(rows).tolist(), (
        "labels differ from evaluate's"
    )
    served = pd.Series(tensor(response, "probability"))
    assert (served - predictions["y_score"].head(rows)).abs().max() <= 1e-6, "probabilities differ"


def test_bad_requests_get_a_4xx_with_one_reason_and_the_server_keeps_serving(project):
    # given a good request and a set of bad ones
    test_rows, _ = held_out(project)
    signature = signature_of(project)
    good = v2_request(test_rows.head(2), signature)
    wrong_column = json.loads(json.dumps(good))
    wrong_column["inputs"][0]["name"] = "agee"
    missing = {"inputs": good["inputs"][1:]}
    text_for_number = json.loads(json.dumps(good))
    text_for_number["inputs"][0]["data"] = ["old", "young"]
    shape_lies = json.loads(json.dumps(good))
    shape_lies["inputs"][0]["shape"] = [3]
    bad = {
        "malformed JSON": (b'{"inputs": [', 400, "not JSON"),
        "no inputs": ({"id": "x"}, 400, "inputs"),
        "wrong column": (wrong_column, 400, "unknown input 'agee'"),
        "missing column": (missing, 400, "missing input"),
        "text for a number": (text_for_number, 400, "number"),
        "shape that lies": (shape_lies, 400, "shape says 3"),
        "oversize body": (b"{" + b" " * 20_000 + b"}", 413, "over the"),
        "too many rows": (v2_request(test_rows.head(11), signature), 413, "more than the 10"),
    }
    with serving(max_body_bytes=10_000, max_rows=10) as url:
        for case, (body, expected, reason) in bad.items():
            # when each is sent
            status, response = call(url + INFER, body)
            # then it gets the expected 4xx and one reason, and the next good request still works
            assert status == expected, f"{case}: {status} {response}"
            assert reason in response.get("error", "") and "\n" not in response["error"], (
                f"{case}: {response}"
            )
            status, response = call(url + INFER, good)
            assert status == 200, f"after {case} the server stopped serving: {status} {response}"
        assert call(url + "/v2/models/other/infer", good)[0] == 404, "an unknown model name was served"
        assert call(url + INFER)[0] == 405, "GET on infer was not refused"


def test_metadata_and_health_follow_the_protocol(project):
    # given a running server
    with serving() as url:
        # when a client asks for health, server and model metadata
        live, ready = call(url + "/v2/health/live")[0], call(url + "/v2/health/ready")[0]
        status, server = call(url + "/v2")
        status_model, model = call(url + f"/v2/models/{MODEL_NAME}")
        version = model["versions"][0]
        versioned = call(url + f"/v2/models/{MODEL_NAME}/versions/{version}")[0]
        model_ready = call(url + f"/v2/models/{MODEL_NAME}/versions/{version}/ready")[0]
        other_version = call(url + f"/v2/models/{MODEL_NAME}/versions/000000000000")[0]
    # then every answer is there, and the model's tensors are listed with name, datatype and shape
    assert (live, ready, status, status_model, versioned, model_ready) == (200,) * 6
    assert {"name", "version", "extensions"} <= set(server), server
    names = {spec["name"] for spec in model["inputs"]}
    assert "income" in names and "sex" not in names, f"inputs should be model columns only: {names}"
    assert all({"name", "datatype", "shape"} <= set(spec) for spec in model["inputs"] + model["outputs"])
    assert other_version == 404, "a version that is not served answered"


def test_inference_log_has_one_line_per_row_and_drops_sensitive_attributes(project):
    # given a request of 3 rows that also carries the sensitive attribute
    test_rows, _ = held_out(project)
    body = v2_request(test_rows.head(3), signature_of(project), "logged")
    body["inputs"].append(
        {"name": "sex", "shape": [3], "datatype": "BYTES", "data": ["female", "male", "male"]}
    )
    # when it is served under the default policy
    with serving() as url:
        status, response = call(url + INFER, body)
    # then the log holds one whole line per row, and no sensitive attribute
    assert status == 200, response
    lines = [
        json.loads(line) for line in Path(load_settings().serving.inference_log).read_text().splitlines()
    ]
    assert [line["id"] for line in lines] == ["logged-0", "logged-1", "logged-2"], lines
    first = lines[0]
    assert {"id", "request_id", "time", "model_version", "features", "prediction", "probability"} <= set(
        first
    )
    assert first["time"].endswith("Z") and first["model_version"] == response["model_version"], first
    assert "sex" not in first["features"] and "income" in first["features"], first["features"]
    assert [line["prediction"] for line in lines] == tensor(response, "predict"), "log differs from answer"


def test_inference_log_keeps_sensitive_attributes_when_the_policy_allows(project):
    # given a policy that allows logging them
    test_rows, _ = held_out(project)
    body = v2_request(test_rows.head(1), signature_of(project))
    body["inputs"].append({"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["female"]})
    # when a request is served
    with serving(keep_sensitive=True) as url:
        assert call(url + INFER, body)[0] == 200
    # then the attribute is in the log line
    line = json.loads(Path(load_settings().serving.inference_log).read_text())
    assert line["features"]["sex"] == "female", line


def test_a_log_that_cannot_be_written_never_fails_a_request(project):
    # given an inference log path whose parent is a file
    Path("artifacts/serving").parent.mkdir(parents=True, exist_ok=True)
    Path("artifacts/serving").write_text("not a folder")
    test_rows, _ = held_out(project)
    # when a request is served
    with serving() as url:
        status, response = call(url + INFER, v2_request(test_rows.head(1), signature_of(project)))
    # then it is answered all the same
    assert status == 200, response


def test_inference_log_rotates_past_its_size_limit(project):
    # given a tiny size limit
    test_rows, _ = held_out(project)
    body = v2_request(test_rows.head(5), signature_of(project))
    # when two requests are served
    with serving(log_max_bytes=100) as url:
        assert call(url + INFER, body)[0] == 200
        assert call(url + INFER, body)[0] == 200
    # then the older lines moved to .1, .2 and every file holds whole lines only
    log = Path(load_settings().serving.inference_log)
    rotated = sorted(log.parent.glob(log.name + ".*"))
    assert [p.name for p in rotated] == [log.name + ".1", log.name + ".2"], rotated
    assert all(len(p.read_text().splitlines()) == 5 for p in rotated), "a rotated file lost rows"


def test_cut_out_answers_503_with_its_reason_at_once_and_off_serves_again(project):
    # given a running server
    test_rows, _ = held_out(project)
    body = v2_request(test_rows.head(1), signature_of(project))
    runner = CliRunner()
    with serving() as url:
        assert call(url + INFER, body)[0] == 200
        # when the cut-out is switched on
        switched = runner.invoke(cli, ["cut-out", "on", "--reason", "incident 42: bad scores"])
        status, response = call(url + INFER, body)
        ready = call(url + "/v2/health/ready")[0]
        # then the next request gets 503 with the reason, and readiness fails too
        assert switched.exit_code == 0, switched.output
        assert status == 503 and "incident 42" in response["error"], (status, response)
        assert ready == 503, "a cut-out server still says it is ready"
        # when it is switched off, the next request is served again
        assert runner.invoke(cli, ["cut-out", "off"]).exit_code == 0
        assert call(url + INFER, body)[0] == 200, "serving did not resume"


def test_cut_out_on_without_a_reason_is_one_line_and_exit_2(project):
    result = CliRunner().invoke(cli, ["cut-out", "on"])
    assert result.exit_code == 2 and "reason" in result.output, result.output
    assert not Path(load_settings().serving.cut_out_file).exists(), "cut out without a reason"


def test_promote_and_rollback_switch_what_serve_answers_without_a_restart(project):
    # given a second release (another seed) beside the champion, and a server following the alias
    runner = CliRunner()
    root = load_settings().paths.release
    first = champion(root)
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["model"]["C"] = 0.5
    params["release"] = {"auto_promote": False}
    Path("params.yaml").write_text(yaml.safe_dump(params))
    for step in ("train", "evaluate", "govern", "package"):
        assert runner.invoke(cli, [step]).exit_code == 0, step
    (second,) = [p.name for p in root.iterdir() if p.is_dir() and p.name != first]
    test_rows, _ = held_out(project)
    body = v2_request(test_rows.head(1), signature_of(project))
    with serving() as url:
        assert call(url + INFER, body)[1]["model_version"] == first
        # when the second is promoted, then the next answer comes from it
        promoted = runner.invoke(cli, ["promote", second, "--reason", "try C=0.5"])
        assert promoted.exit_code == 0, promoted.output
        assert call(url + INFER, body)[1]["model_version"] == second, "promote did not reach the server"
        # when rolled back, the next answer comes from the first again
        rolled = runner.invoke(cli, ["rollback", "--reason", "complaints"])
        assert rolled.exit_code == 0, rolled.output
        assert call(url + INFER, body)[1]["model_version"] == first, "rollback did not reach the server"


@pytest.mark.slow
def test_serve_command_starts_on_a_free_port_and_answers(project):
    # given the serve command, started as a user starts it
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve", "--port", "0"]
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:  # readiness: the line naming the address
            line = process.stdout.readline()
            if not line:
                break
            if "http://" in line:
                url = line.split("http://", 1)[1].split("/", 1)[0]
        assert url, "serve never said where it listens"
        # when a client asks for readiness and the model's metadata
        assert call(f"http://{url}/v2/health/ready")[0] == 200
        status, model = call(f"http://{url}/v2/models/{MODEL_NAME}")
        # then it answers as the in-process server does
        assert status == 200 and model["name"] == MODEL_NAME, model
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_client_example_in_the_docs_works_against_serve(project, monkeypatch, capsys):
    # given the Python client example in docs/serving.md, as a user copies it
    docs = (PROJECT / "docs/serving.md").read_text()
    example = docs.split("```python\n", 1)[1].split("```", 1)[0]
    with serving() as url:
        # when it runs against the server
        monkeypatch.setenv("MODEL_URL", url)
        exec(compile(example, "docs/serving.md", "exec"), {})  # noqa: S102 - our own documentation
    # then it prints the served version and a label and probability per row
    printed = capsys.readouterr().out.split()
    assert printed[0] == champion(load_settings().paths.release), printed


def test_a_server_killed_mid_write_leaves_only_whole_lines_in_the_inference_log(tmp_path):
    # given a process appending 1,000-row requests to the inference log as fast as it can
    log = tmp_path / "inference.jsonl"
    writer = (
        "import sys; import numpy as np; import pandas as pd\n"
        "from {{ cookiecutter.package_name }}.serving.inference_log import InferenceLog\n"
        "log = InferenceLog(sys.argv[1], 0, 1, False)\n"
        "rows = pd.DataFrame({'income': np.arange(1000.0), 'employment': ['salaried'] * 1000})\n"
        "data = log.lines('r', 'v', rows, {}, np.zeros(1000, 'int64'), np.full(1000, 0.25))\n"
        "print('ready', flush=True)\n"
        "while True: log.append(data)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    process = subprocess.Popen([sys.executable, "-c", writer, str(log)], env=env, stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"ready"
    while not log.exists() or log.stat().st_size < 2_000_000:
        time.sleep(0.01)
    # when it is killed mid-write, and a server opens the log again
    process.kill()
    process.wait()
    InferenceLog(log, 0, 1, False)
    # then every line is whole (the unanswered request may have some of its rows there, whole)
    lines = log.read_text().splitlines()
    assert len(lines) >= 1000, "answered requests were lost"
    assert all(json.loads(line)["probability"] == 0.25 for line in lines), "a torn line"
