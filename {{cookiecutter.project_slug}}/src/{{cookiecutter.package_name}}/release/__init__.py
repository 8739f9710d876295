"""Releases: one folder per released model, a `champion` alias, and the log of who moved it.

Layout under the releases root (params.yaml `paths.release`, default artifacts/releases):

    <version>/            one release: model.joblib, model.onnx (the same model as ONNX,
                          checked against it), signature.json, model card, provenance,
                          governance report, manifest.json (sha256 of each)
    champion.json         the alias: which version serves, since when
    release-log.jsonl     append-only: every promote and rollback, who, when, why

A version is the first 12 hex digits of the model's sha256: the same model is
the same release wherever it is built, and a version names exactly one model.
Folders are 0755 and files 0644, so a model server running as another user
(KServe's runs as UID 1000) can read them.
"""

from .champion import champion, history, promote, rollback
from .store import Release, load_release, release_versions, version_of, write_release

__all__ = [
    "Release",
    "champion",
    "history",
    "load_release",
    "promote",
    "release_versions",
    "rollback",
    "version_of",
    "write_release",
]
