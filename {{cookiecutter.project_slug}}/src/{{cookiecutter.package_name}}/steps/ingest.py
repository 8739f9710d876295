"""Ingest: bring the raw data into the project as one CSV."""

import shutil
from pathlib import Path

from .. import sample_data
from ..errors import ProjectError
from ..files import atomic_path
from ..governance.erasure import drop_erased, erased_ids
from ..settings import DataSettings
from ..tables import read_csv


def ingest(data: DataSettings, output: Path) -> dict:
    """Write the raw data set to `output`: the embedded sample, or a copy of data.source.

    Rows named in the erasure register (data.erasure_register) are left out.
    """
    dropped = 0
    with atomic_path(output) as tmp:
        if data.source == "sample":
            frame = sample_data.generate(rows=data.rows, seed=data.seed, drift=data.drift)
            frame, dropped = drop_erased(frame, data.id_column, data.erasure_register)
            frame.to_csv(tmp, index=False)
            rows = len(frame)
        else:
            source = Path(data.source)
            if not source.is_file():
                raise ProjectError(f"data.source {source} is not a file")
            if erased_ids(data.erasure_register):
                frame, dropped = drop_erased(read_csv(source), data.id_column, data.erasure_register)
                frame.to_csv(tmp, index=False)
                rows = len(frame)
            else:  # a byte-for-byte copy
                shutil.copyfile(source, tmp)
                with source.open("rb") as handle:
                    rows = max(sum(1 for _ in handle) - 1, 0)
    return {"rows": rows, "source": data.source, "output": str(output), "erased_rows_dropped": dropped}
