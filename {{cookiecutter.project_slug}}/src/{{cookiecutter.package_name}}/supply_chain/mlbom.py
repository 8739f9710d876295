"""A CycloneDX 1.6 ML-BOM: the model as a machine-learning-model component.

Its data sets are `data` components it references; its model card, metrics,
governance report, provenance, SBOM and ONNX export (with its parity evidence)
are external references with their digests, by file name inside the release folder.
"""

from pathlib import Path

from ..files import read_json
from ..governance.provenance import sha256_file
from .sbom import SCHEMA, SPEC_VERSION, with_serial

# File in the release -> the CycloneDX external reference type that says what it is.
EVIDENCE = {
    "model_card.md": ("model-card", "model card (Markdown)"),
    "model_card.json": ("model-card", "model card (JSON)"),
    "governance.json": ("quality-metrics", "governance report: metrics, fairness and every gate"),
    "governance.html": ("evidence", "governance report for reviewers"),
    "provenance.json": ("attestation", "in-toto statement with a SLSA v1 provenance predicate"),
    "sbom.cdx.json": ("bom", "CycloneDX SBOM of the environment the model was built in"),
    "model.onnx": ("distribution", "the same model as ONNX, for runtimes other than scikit-learn"),
    "portability.json": ("evidence", "onnxruntime against scikit-learn on the held-out rows: largest gap"),
}


def _reference(release: Path, name: str) -> dict | None:
    if name not in EVIDENCE or not (release / name).is_file():
        return None
    kind, comment = EVIDENCE[name]
    return {
        "type": kind,
        "url": name,
        "comment": comment,
        "hashes": [{"alg": "SHA-256", "content": sha256_file(release / name)}],
    }


def build(release: Path, model_file: str, project: str, version: str) -> dict:
    """The ML-BOM of the release folder `release`, whose model file is `model_file`."""
    release = Path(release)
    statement = read_json(release / "provenance.json")
    report = read_json(release / "governance.json") if (release / "governance.json").is_file() else {}
    build_definition = statement["predicate"]["buildDefinition"]
    datasets = [
        {
            "type": "data",
            "bom-ref": f"dataset:{dependency['name']}",
            "name": dependency["name"],
            "hashes": [{"alg": "SHA-256", "content": dependency["digest"]["sha256"]}],
            "data": [{"type": "dataset", "name": Path(dependency["name"]).name}],
        }
        for dependency in build_definition.get("resolvedDependencies", [])
        if "sha256" in dependency.get("digest", {}) and not dependency.get("annotations", {}).get("sbom")
    ]
    model_parameters = build_definition.get("externalParameters", {}).get("model", {})
    metrics = report.get("metrics", {})
    model = {
        "type": "machine-learning-model",
        "bom-ref": f"model:{project}@{version}",
        "name": project,
        "version": version,
        "hashes": [{"alg": "SHA-256", "content": sha256_file(release / model_file)}],
        "properties": [{"name": "file", "value": model_file}],
        "modelCard": {
            "modelParameters": {
                "approach": {"type": "supervised"},
                "task": "classification",
                "architectureFamily": str(model_parameters.get("algorithm", "unknown")),
                "datasets": [{"ref": dataset["bom-ref"]} for dataset in datasets],
            },
            "quantitativeAnalysis": {
                "performanceMetrics": [
                    {"type": name, "value": str(value)}
                    for name, value in sorted(metrics.items())
                    if isinstance(value, int | float)
                ]
            },
        },
        "externalReferences": [ref for name in EVIDENCE if (ref := _reference(release, name))],
    }
    bom = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {"component": model},
        "components": datasets,
        "dependencies": [{"ref": model["bom-ref"], "dependsOn": [d["bom-ref"] for d in datasets]}],
    }
    return with_serial(bom)
