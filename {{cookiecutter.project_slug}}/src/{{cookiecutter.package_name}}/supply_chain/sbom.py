"""A CycloneDX 1.6 SBOM of the Python environment the steps run in.

Built from the installed distributions' metadata (importlib.metadata), in well
under a second, and deterministic: no timestamp, components sorted, serial
number derived from the content. The same image gives the same bytes, so
govern records the SBOM's digest in the provenance and package checks that
the environment it releases from is the one govern saw. `cyclonedx-py
environment` writes a richer SBOM (external references, dependency graph) when
you want one; it takes tens of seconds.
"""

import copy
import functools
import hashlib
import json
import os
import re
import sys
import uuid
from importlib import metadata

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"

# Trove classifiers that name exactly one SPDX licence. Others ("BSD License")
# are kept as names: they say a family, not a licence.
CLASSIFIER_SPDX = {
    "Apache Software License": "Apache-2.0",
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "Zope Public License": "ZPL-2.1",
    "zlib/libpng License": "Zlib",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL-2.0-or-later",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
}
# Free-text licence fields that name exactly one SPDX licence, lower-cased.
FIELD_SPDX = {
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "3-clause bsd license": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd license": "BSD-3-Clause",
    "mit license": "MIT",
}
# A licence field that reads like an SPDX id or expression, not a licence text.
SPDX_LIKE = re.compile(r"^[A-Za-z0-9.+\-() ]{2,80}$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_licences(dist: metadata.Distribution) -> list[dict]:
    """A distribution's licences as CycloneDX license choices, most precise source first."""
    meta = dist.metadata
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return [{"expression": expression}]
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    named = [c for c in classifiers if c not in ("OSI Approved", "Other/Proprietary License")]
    if named:
        return [
            {"license": {"id": CLASSIFIER_SPDX[c], "acknowledgement": "declared"}}
            if c in CLASSIFIER_SPDX
            else {"license": {"name": c, "acknowledgement": "declared"}}
            for c in dict.fromkeys(named)
        ]
    field = (meta.get("License") or "").strip()
    if field.lower() in FIELD_SPDX:
        return [{"license": {"id": FIELD_SPDX[field.lower()], "acknowledgement": "declared"}}]
    if field and "\n" not in field and SPDX_LIKE.match(field):
        return [{"license": {"name": field, "acknowledgement": "declared"}}]
    return []


def _component(dist: metadata.Distribution) -> dict:
    name, version = dist.metadata["Name"], dist.version
    purl = f"pkg:pypi/{_canonical(name)}@{version}"
    component = {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl}
    licences = declared_licences(dist)
    if licences:
        component["licenses"] = licences
    return component


def environment_sbom(project: str, project_version: str) -> dict:
    """The SBOM of every distribution importable by this interpreter, the project as its subject.

    Read once per process while the folders on sys.path stay as they are:
    installing or removing a distribution changes its folder's mtime, and so
    the SBOM is read again (govern and package each ask for it).
    """
    return copy.deepcopy(_environment_sbom(project, project_version, _distribution_folders_state()))


def _distribution_folders_state() -> tuple:
    """Each folder on sys.path with its mtime, but the working directory's (steps write there)."""
    cwd = os.getcwd()
    state = []
    for entry in sys.path:
        if entry in ("", ".") or os.path.abspath(entry) == cwd:
            continue
        try:
            state.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            continue
    return tuple(state)


@functools.lru_cache(maxsize=4)
def _environment_sbom(project: str, project_version: str, _folders: tuple) -> dict:
    seen: dict[str, dict] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or _canonical(name) == _canonical(project):
            continue
        seen.setdefault(_canonical(name), _component(dist))
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    bom = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "bom-ref": f"pkg:pypi/{_canonical(project)}@{project_version}",
                "name": project,
                "version": project_version,
            },
            "properties": [{"name": "python:version", "value": python}],
        },
        "components": sorted(seen.values(), key=lambda c: (c["name"].lower(), c["version"])),
    }
    return with_serial(bom)


def with_serial(bom: dict) -> dict:
    """Give `bom` a serial number derived from its content, so equal content means equal bytes."""
    content = json.dumps({k: v for k, v in bom.items() if k != "serialNumber"}, sort_keys=True)
    digest = hashlib.sha256(content.encode()).digest()[:16]
    return bom | {"serialNumber": uuid.UUID(bytes=digest, version=4).urn}


def to_bytes(bom: dict) -> bytes:
    """The canonical file form of a BOM: sorted keys, two-space indent, final newline."""
    return (json.dumps(bom, indent=2, sort_keys=True) + "\n").encode("utf-8")


def sha256(bom: dict) -> str:
    """The digest of a BOM's canonical file form."""
    return hashlib.sha256(to_bytes(bom)).hexdigest()
