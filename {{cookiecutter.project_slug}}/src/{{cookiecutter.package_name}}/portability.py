"""Portability: the released model as ONNX, and the check that onnxruntime scores it as sklearn does.

`package` converts the fitted Pipeline (feature preparation and classifier) with
skl2onnx, runs the result with onnxruntime on the held-out rows, and releases
it as model.onnx only if the largest gap in the positive-class probability is
within the policy's `portability.onnx_parity_max_abs_diff`. portability.json in
the release records what was measured.

The ONNX model takes one tensor per input column, shape [N, 1]: numeric
columns as double, the others as strings, a missing category as "" (a string
tensor has no NaN). Its output `probabilities` is [N, 2]; column 1 is the
positive class.

skl2onnx converts most scikit-learn classifiers as they are. A kind that needs
help gets a converter in `CONVERTERS`, keyed by its estimator class, as the
tree ensembles have: skl2onnx writes tree thresholds as 32-bit floats, which
moves rows that sit on a threshold to the other branch.
"""

import hashlib
from collections.abc import Callable
from importlib.metadata import version as installed_version
from typing import TypedDict

import numpy as np
import pandas as pd
from skl2onnx.operator_converters.gradient_boosting import convert_sklearn_gradient_boosting_classifier
from skl2onnx.operator_converters.random_forest import convert_sklearn_random_forest_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from .errors import ProjectError
from .release.signature import numeric_columns

ONNX_FILE = "model.onnx"
REPORT_FILE = "portability.json"
# The default domain's opset and the ONNX-ML one (3: tree thresholds as double tensors).
OPSETS = {"": 19, "ai.onnx.ml": 3}  # 19: Equal on strings
MISSING_CATEGORY = ""


class Parity(TypedDict):
    """What portability.json records: the ONNX file, the tools that made and ran it, the gap measured."""

    file: str
    sha256: str
    converter: str
    runtime: str
    opsets: dict[str, int]
    inputs: dict[str, str]
    rows: int
    max_abs_diff: float
    limit: float
    passed: bool


def _imputer(scope, operator, container) -> None:
    """SimpleImputer in the input's own type: NaN (numbers) or "" (text) becomes the fitted statistic.

    skl2onnx's own converter needs a text imputer's missing value to be a
    string (ours is NaN) and fills numbers through the Imputer operator, which
    onnxruntime runs in float only.
    """
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.common import concatenate_variables

    statistics = operator.raw_operator.statistics_
    values = concatenate_variables(scope, operator.inputs, container)
    fill = scope.get_unique_variable_name("fill")
    missing = scope.get_unique_variable_name("missing")
    if isinstance(operator.inputs[0].type, StringTensorType):
        empty = scope.get_unique_variable_name("empty")
        container.add_initializer(empty, TensorProto.STRING, [], [MISSING_CATEGORY.encode()])
        container.add_initializer(
            fill, TensorProto.STRING, [1, statistics.size], [str(s).encode() for s in statistics]
        )
        container.add_node("Equal", [values, empty], [missing], name=scope.get_unique_operator_name("Equal"))
    else:
        container.add_initializer(
            fill, TensorProto.DOUBLE, [1, statistics.size], statistics.astype(np.float64).tolist()
        )
        container.add_node("IsNaN", [values], [missing], name=scope.get_unique_operator_name("IsNaN"))
    where = scope.get_unique_operator_name("Where")
    container.add_node("Where", [missing, fill, values], [operator.outputs[0].full_name], name=where)


# Tree attributes that ONNX-ML 3 also takes as a double tensor (name + "_as_tensor").
DOUBLE_ATTRIBUTES = ("nodes_values", "nodes_hitrates", "class_weights", "target_weights", "base_values")


def _in_double(convert: Callable) -> Callable:
    """skl2onnx's converter of a tree ensemble, with its thresholds and weights kept double.

    sklearn compares float32(x) with a double threshold; skl2onnx computes for
    each threshold the double w that gives the same branch for a double x, but
    stores w as a float attribute, which sends rows near a threshold the other
    way. The node gets w as a double tensor (ONNX-ML 3) instead.
    """
    from onnx import numpy_helper

    def converter(scope, operator, container) -> None:
        from onnx import TensorProto
        from skl2onnx.common.data_types import DoubleTensorType

        add_node = container.add_node
        double_out = isinstance(operator.outputs[-1].type, DoubleTensorType)

        def add_double_node(op_type, inputs, outputs, *args, **attrs):
            if not op_type.startswith("TreeEnsemble"):
                return add_node(op_type, inputs, outputs, *args, **attrs)
            for name in DOUBLE_ATTRIBUTES:
                value = attrs.get(name)
                if isinstance(value, np.ndarray) and value.dtype == np.float64:
                    attrs[f"{name}_as_tensor"] = numpy_helper.from_array(attrs.pop(name))
            if op_type != "TreeEnsembleClassifier" or not double_out:
                return add_node(op_type, inputs, outputs, *args, **attrs)
            # Its scores are float whatever its input; the operator promised double.
            scores = scope.get_unique_variable_name("scores")
            add_node(op_type, inputs, [outputs[0], scores], *args, **attrs)
            cast = scope.get_unique_operator_name("Cast")
            return add_node("Cast", [scores], [outputs[1]], name=cast, to=TensorProto.DOUBLE)

        container.add_node = add_double_node  # this conversion only: the instance attribute goes after
        try:
            convert(scope, operator, container, op_version=OPSETS["ai.onnx.ml"])
        finally:
            del container.add_node

    return converter


# Estimator class -> skl2onnx converter, where skl2onnx's own is not exact enough.
CONVERTERS: dict[type, Callable] = {
    SimpleImputer: _imputer,
    RandomForestClassifier: _in_double(convert_sklearn_random_forest_classifier),
    ExtraTreesClassifier: _in_double(convert_sklearn_random_forest_classifier),
    GradientBoostingClassifier: _in_double(convert_sklearn_gradient_boosting_classifier),
    HistGradientBoostingClassifier: _in_double(convert_sklearn_random_forest_classifier),
}


def to_onnx(model: Pipeline) -> bytes:
    """The fitted Pipeline as a serialised ONNX model; one error naming the estimator if it cannot be."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    classifier = model.steps[-1][1]
    numeric = numeric_columns(model)
    inputs = [
        (str(column), DoubleTensorType([None, 1]) if column in numeric else StringTensorType([None, 1]))
        for column in model.feature_names_in_
    ]
    try:
        converted = convert_sklearn(
            model,
            initial_types=inputs,
            target_opset=OPSETS,
            options={id(classifier): {"zipmap": False}},  # probabilities as one [N, 2] tensor
            custom_conversion_functions=CONVERTERS,
        )
    except (RuntimeError, NotImplementedError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectError(
            f"the model's estimator {type(classifier).__name__} cannot be exported to ONNX "
            f"(skl2onnx: {first[:200]}): add a converter to portability.CONVERTERS or choose another kind"
        ) from exc
    return converted.SerializeToString()


def onnx_inputs(model: Pipeline, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ONNX model's input tensors for `rows`: numbers as double, the rest as text ("" if missing)."""
    numeric = numeric_columns(model)
    tensors = {}
    for column in model.feature_names_in_:
        values = rows[[column]]
        if column in numeric:
            tensors[str(column)] = values.to_numpy(dtype=np.float64)
        else:
            tensors[str(column)] = values.astype(object).fillna(MISSING_CATEGORY).astype(str).to_numpy()
    return tensors


def onnx_probabilities(onnx_model: bytes, model: Pipeline, rows: pd.DataFrame) -> np.ndarray:
    """The positive-class probability onnxruntime gives each of `rows`."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its optimiser's notes are not the user's business
    try:
        session = onnxruntime.InferenceSession(onnx_model, options, providers=["CPUExecutionProvider"])
        _, probabilities = session.run(["label", "probabilities"], onnx_inputs(model, rows))
    except Exception as exc:  # onnxruntime raises its own types for a model it cannot load or run
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectError(f"onnxruntime cannot run the exported model: {first[:200]}") from exc
    return np.asarray(probabilities, dtype=np.float64)[:, 1]


def check_parity(onnx_model: bytes, model: Pipeline, rows: pd.DataFrame, limit: float) -> Parity:
    """Measure how far onnxruntime's probabilities are from sklearn's on `rows`; raise if beyond `limit`."""
    if rows.empty:
        raise ProjectError("no held-out rows to compare the ONNX model with: check data.test_size")
    expected = model.predict_proba(rows)[:, 1]
    gap = float(np.max(np.abs(onnx_probabilities(onnx_model, model, rows) - expected)))
    numeric = numeric_columns(model)
    parity: Parity = {
        "file": ONNX_FILE,
        "sha256": hashlib.sha256(onnx_model).hexdigest(),
        "converter": f"skl2onnx {installed_version('skl2onnx')}",
        "runtime": f"onnxruntime {installed_version('onnxruntime')}",
        "opsets": {domain or "ai.onnx": opset for domain, opset in OPSETS.items()},
        "inputs": {str(c): "double" if c in numeric else "string" for c in model.feature_names_in_},
        "rows": len(rows),
        "max_abs_diff": gap,
        "limit": limit,
        "passed": bool(gap <= limit),  # NaN (a broken export) never passes
    }
    if not parity["passed"]:
        raise ProjectError(
            f"{ONNX_FILE}: onnxruntime's probabilities differ from the model's by up to {gap:.3g} on "
            f"{len(rows)} held-out rows, above portability.onnx_parity_max_abs_diff {limit:g}: "
            "nothing released"
        )
    return parity
