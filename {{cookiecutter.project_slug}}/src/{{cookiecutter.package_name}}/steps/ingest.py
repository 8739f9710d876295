"""Ingest: bring the raw data into the project as one CSV.

data.source is "sample" (the embedded synthetic set), a local path, or a URL:
http(s) with the standard library, s3:// and gs:// through fsspec (install the
project's `cloud` extra). A Parquet source (`.parquet`, needs the `parquet`
extra) is converted to CSV; a CSV is copied byte for byte.
"""

import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import pandas as pd

from .. import sample_data
from ..errors import ProjectError
from ..files import atomic_path
from ..governance.erasure import drop_erased, erased_ids
from ..settings import DataSettings
from ..tables import read_csv

TIMEOUT_S = 60
CLOUD = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}


class IngestSummary(TypedDict):
    rows: int
    source: str
    output: str  # lineage gives this output dataset its row count
    erased_rows_dropped: int


def fetch(source: str, into: Path) -> None:
    """Copy `source` (a path or a URL) to the local file `into`; one clear error if it cannot."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        try:
            # The scheme is checked above: http(s) only, never file:// or ftp://.
            response = urllib.request.urlopen(source, timeout=TIMEOUT_S)  # noqa: S310  # nosec B310
            with response, into.open("wb") as out:
                shutil.copyfileobj(response, out)
        except urllib.error.HTTPError as exc:
            raise ProjectError(f"data.source {source}: the server answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProjectError(f"data.source {source} cannot be downloaded: {reason}") from None
    elif scheme in CLOUD:
        try:
            import fsspec
        except ImportError:
            raise ProjectError(
                f"data.source {source} needs fsspec and {CLOUD[scheme]}: install the project's `cloud` extra"
            ) from None
        try:
            with fsspec.open(source, "rb") as handle, into.open("wb") as out:
                shutil.copyfileobj(handle, out)
        except (ImportError, OSError, ValueError) as exc:
            raise ProjectError(f"data.source {source} cannot be read: {exc}") from None
    elif scheme and len(scheme) > 1:  # not a Windows drive letter
        raise ProjectError(f"data.source {source}: {scheme}:// is not supported (a path, http(s), s3 or gs)")
    else:
        path = Path(source)
        if not path.is_file():
            raise ProjectError(f"data.source {source} is not a file")
        shutil.copyfile(path, into)


def ingest(data: DataSettings, output: Path) -> IngestSummary:
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
        elif urlsplit(data.source).path.lower().endswith(".parquet"):
            with tempfile.TemporaryDirectory() as folder:
                local = Path(folder) / "source.parquet"
                fetch(data.source, local)
                try:
                    frame = pd.read_parquet(local)
                except ImportError:
                    raise ProjectError(
                        f"data.source {data.source}: install the `parquet` extra to read Parquet"
                    ) from None
                except (OSError, ValueError) as exc:
                    raise ProjectError(f"data.source {data.source} is not readable Parquet: {exc}") from None
            frame.to_csv(tmp, index=False)
            rows = len(frame)
        else:
            fetch(data.source, tmp)
            if erased_ids(data.erasure_register):
                frame, dropped = drop_erased(read_csv(tmp), data.id_column, data.erasure_register)
                frame.to_csv(tmp, index=False)
                rows = len(frame)
            else:  # a byte-for-byte copy
                with tmp.open("rb") as handle:
                    rows = max(sum(1 for _ in handle) - 1, 0)
    return {"rows": rows, "source": data.source, "output": str(output), "erased_rows_dropped": dropped}
