"""Sensitive attributes: measured for fairness, kept out of what is shared.

The attributes named in params.yaml (data.sensitive_features) are never model
inputs. Unless the policy allows it (sensitive_data.share_in_artifacts), they
are also left out of every artifact that travels beyond this machine's
governance step: predictions.csv (which carries a row number instead), the
model card, lineage facets and tracked artifacts. govern joins them back from
the raw data by row number, and the per-group evidence it computes appears in
the governance report only, as aggregates (counts and rates per group, never a
row).
"""

import pandas as pd

from ..errors import ProjectError

ROW = "row"  # position of a test row in the raw data set (predictions.csv)


def shareable_predictions(
    test_rows: pd.DataFrame, scores: dict[str, object], attributes: tuple[str, ...], share: bool
) -> pd.DataFrame:
    """The per-row predictions evaluate writes: row number and scores, attributes only if shared."""
    columns = {ROW: test_rows.index.to_numpy()}
    if share:
        columns |= {attribute: test_rows[attribute].to_numpy() for attribute in attributes}
    return pd.DataFrame(columns | scores)


def attach(predictions: pd.DataFrame, raw: pd.DataFrame, attributes: tuple[str, ...]) -> pd.DataFrame:
    """Predictions with the sensitive attributes joined back from the raw data, for fairness only."""
    wanted = [attribute for attribute in attributes if attribute not in predictions]
    if not wanted:
        return predictions
    if ROW not in predictions:
        raise ProjectError(f"predictions lack the {ROW!r} column: run evaluate again")
    absent = [attribute for attribute in wanted if attribute not in raw]
    if absent:
        raise ProjectError(f"the raw data lacks sensitive attribute(s) {', '.join(absent)}")
    rows = predictions[ROW]
    if rows.min() < 0 or rows.max() >= len(raw):
        raise ProjectError("predictions name rows the raw data does not have: run evaluate again")
    joined = raw[wanted].iloc[rows.to_numpy()].reset_index(drop=True)
    return pd.concat([predictions.reset_index(drop=True), joined], axis=1)


def for_shared_card(fairness: dict[str, dict], share: bool) -> dict[str, dict]:
    """What a shareable document (model card) may say about groups: disparities, not per-group rows."""
    if share:
        return fairness
    return {attribute: result | {"by_group": {}} for attribute, result in fairness.items()}


def group_values(raw: pd.DataFrame, attributes: tuple[str, ...]) -> set[str]:
    """Every value a sensitive attribute takes in the data: what a leak check looks for."""
    return {str(value) for attribute in attributes if attribute in raw for value in raw[attribute].unique()}
