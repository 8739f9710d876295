"""DVC's version of each file it tracks, on every lineage dataset that is one.

Joins every step run as an extension of the run context (context.py): a
dataset that `dvc.yaml` declares as a stage output gets the OpenLineage
`version` facet holding its DVC md5, so lineage and DVC name the same bytes.
"""

import functools
import hashlib
from pathlib import Path

import yaml
from openlineage.client.facet_v2 import dataset_version_dataset

from .context import Extension
from .settings import Settings, read_yaml


@functools.cache
def _dvc_outs(dvc_file: Path) -> frozenset[Path]:
    """The files dvc.yaml declares as stage outputs (so DVC versions them), resolved."""
    try:
        stages = (read_yaml(dvc_file.read_text(encoding="utf-8")) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError):
        return frozenset()
    outs = set()
    for stage in stages.values():
        for kind in ("outs", "metrics"):
            for out in stage.get(kind) or []:
                outs.add(Path(next(iter(out)) if isinstance(out, dict) else out).resolve())
    return frozenset(outs)


def data_version(path: Path, dvc_file: Path = Path("dvc.yaml")) -> str | None:
    """The DVC md5 of a file DVC versions: DVC 3 hashes a file's bytes with MD5, as here."""
    if not path.is_file() or path.resolve() not in _dvc_outs(dvc_file.resolve()):
        return None
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DvcVersions(Extension):
    def dataset_facets(self, path: Path) -> dict:
        if (version := data_version(path)) is None:
            return {}
        return {"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version)}


def extension(settings: Settings) -> DvcVersions:
    """The run context's data-versioning extension (context.load_extensions finds it)."""
    return DvcVersions()
