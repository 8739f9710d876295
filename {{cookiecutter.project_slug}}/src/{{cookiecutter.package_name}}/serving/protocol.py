"""Open Inference Protocol v2 (REST) for a tabular model: one input tensor per column.

A request names each column as an input tensor of shape [N] (or [N, 1]) holding
one value per row, as KServe's and MLServer's pandas codec do; the response
holds two output tensors of shape [N]: `predict` (the label) and `probability`
(of the positive class). Every problem with a request is a RequestError that
names one reason; the server answers it with 4xx and goes on serving.
"""

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC_TYPES = {
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
}


class RequestError(Exception):
    """A request the server refuses; `status` is the HTTP status, the message its one reason."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    id: str | None
    rows: pd.DataFrame  # the model's input columns, in the model's order
    extra: dict[str, list]  # sensitive attributes sent along (never given to the model)
    outputs: tuple[str, ...]  # which output tensors to return


def _reject_constant(name: str):
    raise RequestError(f"request body holds {name}, which JSON does not allow")


def _flatten(data, name: str) -> list:
    if not isinstance(data, list):
        raise RequestError(f"input {name!r}: data must be an array")
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _rows_of(tensor: dict, name: str) -> int:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not shape or not all(type(d) is int and d >= 0 for d in shape):
        raise RequestError(f"input {name!r}: shape must be a list of non-negative integers, got {shape!r}")
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise RequestError(
            f"input {name!r}: shape {shape} is not [rows] or [rows, 1]: send one tensor per column"
        )
    return shape[0]


def _column(tensor: dict, spec: dict, rows: int, name: str) -> list:
    datatype = tensor.get("datatype")
    if not isinstance(datatype, str):
        raise RequestError(f"input {name!r}: datatype must be a string")
    values = _flatten(tensor.get("data"), name)
    if len(values) != rows:
        raise RequestError(f"input {name!r}: shape says {rows} values, data holds {len(values)}")
    if spec["datatype"] == "BYTES":
        if datatype != "BYTES":
            raise RequestError(f"input {name!r}: datatype {datatype} where the model takes BYTES (text)")
        if not all(isinstance(v, str) for v in values):
            raise RequestError(f"input {name!r}: every value must be a string")
        return values
    if datatype not in NUMERIC_TYPES:
        raise RequestError(f"input {name!r}: datatype {datatype} where the model takes a number (FP64)")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise RequestError(f"input {name!r}: every value must be a number")
    if not all(math.isfinite(v) for v in values):
        raise RequestError(f"input {name!r}: values must be finite numbers")
    return values


def decode(body: bytes, signature: dict, max_rows: int) -> Request:
    """A v2 inference request as rows for the model; RequestError names what is wrong."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except RequestError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"request body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise RequestError("request body must be a JSON object with an 'inputs' array")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError("request has no 'inputs' array (one tensor per column)")
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise RequestError("request 'id' must be a string")
    wanted = {spec["name"]: spec for spec in signature["inputs"]}
    sensitive = {
        name: {"name": name, "datatype": "BYTES"} for name in signature.get("sensitive_features", [])
    }
    columns: dict[str, list] = {}
    extra: dict[str, list] = {}
    rows = None
    for tensor in inputs:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise RequestError("every input must be an object with a 'name'")
        name = tensor["name"]
        if name in columns or name in extra:
            raise RequestError(f"input {name!r} appears twice")
        if name not in wanted and name not in sensitive:
            raise RequestError(f"unknown input {name!r}: the model takes {', '.join(wanted)}")
        count = _rows_of(tensor, name)
        if rows is None:
            rows = count
        elif count != rows:
            raise RequestError(f"input {name!r} has {count} rows where the others have {rows}")
        if name in wanted:
            columns[name] = _column(tensor, wanted[name], count, name)
        else:
            values = _flatten(tensor.get("data"), name)
            if len(values) != count:
                raise RequestError(f"input {name!r}: shape says {count} values, data holds {len(values)}")
            extra[name] = values
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise RequestError(f"missing input(s) {', '.join(missing)}: the model takes {', '.join(wanted)}")
    if not rows:
        raise RequestError("request holds no rows")
    if rows > max_rows:
        raise RequestError(f"request holds {rows} rows, more than the {max_rows} allowed", status=413)
    outputs = _outputs(payload.get("outputs"), signature)
    frame = pd.DataFrame(
        {
            name: np.asarray(values, dtype="float64") if wanted[name]["datatype"] != "BYTES" else values
            for name, values in columns.items()
        }
    )[list(wanted)]
    return Request(request_id, frame, extra, outputs)


def _outputs(requested, signature: dict) -> tuple[str, ...]:
    known = [spec["name"] for spec in signature["outputs"]]
    if requested is None:
        return tuple(known)
    if not isinstance(requested, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in requested
    ):
        raise RequestError("'outputs' must be an array of objects with a 'name'")
    names = tuple(o["name"] for o in requested)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise RequestError(f"unknown output {unknown[0]!r}: the model returns {', '.join(known)}")
    return names


def encode(model_name: str, version: str, request_id: str, labels, probabilities, outputs) -> dict:
    """A v2 inference response: `predict` and `probability`, one value per row."""
    tensors = {
        "predict": {
            "name": "predict",
            "datatype": "INT64",
            "shape": [len(labels)],
            "data": [int(v) for v in labels],
        },
        "probability": {
            "name": "probability",
            "datatype": "FP64",
            "shape": [len(probabilities)],
            "data": [float(v) for v in probabilities],
        },
    }
    return {
        "model_name": model_name,
        "model_version": version,
        "id": request_id,
        "parameters": {"content_type": "np"},
        "outputs": [tensors[name] for name in outputs],
    }


def model_metadata(model_name: str, version: str, signature: dict) -> dict:
    """The model metadata response: name, version, platform and every input and output tensor."""
    return {
        "name": model_name,
        "versions": [version],
        "platform": "sklearn",
        "inputs": signature["inputs"],
        "outputs": signature["outputs"],
    }
