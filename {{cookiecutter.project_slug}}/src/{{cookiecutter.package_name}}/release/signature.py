"""What a released model takes and returns, in the Open Inference Protocol's terms.

Written into every release as signature.json so the server (and a client) knows
the input tensors without loading training data: one tensor per column, numeric
columns FP64, the rest BYTES, each of shape [-1] (one value per row).
"""

from sklearn.compose import ColumnTransformer

from ..errors import ProjectError

OUTPUTS = [
    {"name": "predict", "datatype": "INT64", "shape": [-1]},
    {"name": "probability", "datatype": "FP64", "shape": [-1]},
]


def numeric_columns(model) -> set[str]:
    """The input columns the model prepares as numbers (its ColumnTransformer's "numeric" part)."""
    for step in getattr(model, "named_steps", {}).values():
        if isinstance(step, ColumnTransformer):
            return {
                column for name, _, columns in step.transformers_ if name == "numeric" for column in columns
            }
    return set()


def model_signature(model, target: str, sensitive: tuple[str, ...]) -> dict:
    """Inputs and outputs of a fitted model, plus the columns a request may add for the log."""
    columns = [str(c) for c in getattr(model, "feature_names_in_", [])]
    if not columns:
        raise ProjectError("the model records no input column names: train it on a table")
    numeric = numeric_columns(model)
    return {
        "inputs": [
            {"name": column, "datatype": "FP64" if column in numeric else "BYTES", "shape": [-1]}
            for column in columns
        ],
        "outputs": OUTPUTS,
        "target": target,
        # Accepted in a request, never given to the model; logged only if policy allows.
        "sensitive_features": list(sensitive),
        "positive_class": 1,
    }
