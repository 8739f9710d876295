"""The baked project's `serve` against the Open Inference Protocol v2 REST spec, an independent oracle.

The spec (../shared/oracles/open-inference-protocol/) is read here, never copied
into the project: each answer the server gives is validated against the
response schema the spec names for that route and status.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, package_of
from jsonschema import Draft7Validator

pytestmark = pytest.mark.slow


def oracle_spec() -> dict:
    for shared in (TEMPLATE.parent / "shared", Path("/work/shared")):
        path = shared / "oracles" / "open-inference-protocol" / "open_inference_rest.yaml"
        if path.is_file():
            return yaml.safe_load(path.read_text())
    pytest.fail("../shared/oracles/open-inference-protocol/open_inference_rest.yaml not found")


def validator(spec: dict, schema_name: str) -> Draft7Validator:
    """A validator for one of the spec's component schemas ($refs resolve inside the spec)."""
    return Draft7Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})


def response_schema(spec: dict, route: str, method: str, status: int) -> str | None:
    """The schema name the spec gives for this route, method and status; None if it documents no body."""
    answer = spec["paths"][route][method]["responses"].get(str(status))
    assert answer is not None, f"{method.upper()} {route}: the spec documents no {status} answer"
    content = answer.get("content", {}).get("application/json")
    return content["schema"]["$ref"].rsplit("/", 1)[1] if content else None


def call(url: str, body: object = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def server(default_project, tmp_path_factory):
    """The default bake, its pipeline run once, `serve --port 0` started as a user starts it."""
    project = tmp_path_factory.mktemp("serve") / default_project.name
    shutil.copytree(default_project, project)
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env = {k: v for k, v in env.items() if not k.startswith(("OPENLINEAGE", "MLFLOW_"))}
    package = package_of(project)
    pipeline = [sys.executable, "-m", package, "run"]
    subprocess.run(pipeline, cwd=project, env=env, check=True, capture_output=True)
    command = [sys.executable, "-m", package, "serve", "--port", "0"]
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if "http://" in line:
                url = "http://" + line.split("http://", 1)[1].split("/", 1)[0]
        assert url, "serve never said where it listens"
        yield url, project
    finally:
        process.terminate()
        process.wait(timeout=30)


def v2_rows(project: Path, count: int) -> dict:
    """A v2 request for `count` rows of the project's own data, one tensor per column of the signature."""
    releases = project / "artifacts/releases"
    version = json.loads((releases / "champion.json").read_text())["version"]
    signature = json.loads((releases / version / "signature.json").read_text())
    header, *lines = (project / "artifacts/data/raw.csv").read_text().splitlines()[: count + 1]
    columns = header.split(",")
    table = [dict(zip(columns, line.split(","), strict=True)) for line in lines]
    inputs = []
    for spec in signature["inputs"]:
        values = [row[spec["name"]] for row in table]
        if spec["datatype"] != "BYTES":
            values = [float(v) for v in values]
        inputs.append({"name": spec["name"], "shape": [count], "datatype": spec["datatype"], "data": values})
    return {"id": "oracle", "inputs": inputs}


def test_serve_answers_every_route_as_the_open_inference_protocol_spec_says(server):
    # given the spec, and a server with the default bake's champion
    spec = oracle_spec()
    url, project = server
    name = "mlops-demo"
    status, metadata = call(f"{url}/v2/models/{name}")
    version = metadata["versions"][0]
    model = f"/v2/models/{name}/versions/{version}"
    routes = {
        # spec route -> (the URL on this server, body)
        "/v2/health/live": ("/v2/health/live", None),
        "/v2/health/ready": ("/v2/health/ready", None),
        "/v2/": ("/v2/", None),
        "/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}": (model, None),
        "/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}/ready": (f"{model}/ready", None),
        "/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}/infer": (
            f"{model}/infer",
            v2_rows(project, 1000),
        ),
    }
    assert set(routes) == set(spec["paths"]), "the spec has routes this test does not call"
    for route, (path, body) in routes.items():
        method = "post" if body is not None else "get"
        # when each is called as the spec describes
        status, answer = call(url + path, body)
        # then the status is one the spec documents and the body matches its schema
        schema = response_schema(spec, route, method, status)
        if schema:
            errors = [e.message for e in validator(spec, schema).iter_errors(answer)]
            assert not errors, f"{method.upper()} {path}: {errors}"
    # and the model's tensors, and the request this test built, are valid under the spec too
    assert not list(validator(spec, "metadata_model_response").iter_errors(metadata))
    assert not list(validator(spec, "inference_request").iter_errors(v2_rows(project, 2)))


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        {"inputs": "no"},
        {"inputs": [{"name": "nope", "shape": [1], "datatype": "FP64", "data": [1]}]},
    ],
    ids=["malformed", "inputs-not-a-list", "unknown-column"],
)
def test_a_bad_infer_request_gets_the_specs_400_error_object(server, body):
    # given the spec's infer route and a request it would reject
    spec = oracle_spec()
    url, _ = server
    status, metadata = call(f"{url}/v2/models/mlops-demo")
    # when it is sent
    status, answer = call(f"{url}/v2/models/mlops-demo/versions/{metadata['versions'][0]}/infer", body)
    # then the answer is 400 with the spec's error object, and the next request is served
    route = "/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}/infer"
    assert status == 400, (status, answer)
    schema = response_schema(spec, route, "post", 400)
    assert not list(validator(spec, schema).iter_errors(answer)), answer
    assert call(f"{url}/v2/health/ready")[0] == 200
