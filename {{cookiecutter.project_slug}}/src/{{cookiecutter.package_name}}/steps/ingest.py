"""Ingest: bring the raw data into the project as one CSV."""

import shutil
from pathlib import Path
from typing import TypedDict

from .. import sample_data
from ..errors import ProjectError
from ..files import atomic_path
from ..settings import DataSettings


class IngestSummary(TypedDict):
    rows: int
    source: str
    output: str  # lineage gives this output dataset its row count


def ingest(data: DataSettings, output: Path) -> IngestSummary:
    """Write the raw data set to `output`: the embedded sample, or a copy of data.source."""
    with atomic_path(output) as tmp:
        if data.source == "sample":
            frame = sample_data.generate(rows=data.rows, seed=data.seed)
            frame.to_csv(tmp, index=False)
            rows = len(frame)
        else:
            source = Path(data.source)
            if not source.is_file():
                raise ProjectError(f"data.source {source} is not a file")
            shutil.copyfile(source, tmp)
            with source.open("rb") as handle:
                rows = max(sum(1 for _ in handle) - 1, 0)
    return {"rows": rows, "source": data.source, "output": str(output)}
