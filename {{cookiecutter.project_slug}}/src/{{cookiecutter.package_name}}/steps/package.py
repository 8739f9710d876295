"""Package: write the governed model, its ONNX export and its evidence as a release; promote it if so
configured."""

from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from ..errors import ProjectError
from ..files import read_json
from ..governance.policy import PortabilityPolicy
from ..governance.provenance import sha256_file
from ..monitoring import reference
from ..portability import ONNX_FILE, REPORT_FILE, check_parity, to_onnx
from ..release import champion, promote, write_release
from ..release.signature import model_signature
from ..settings import DataSettings, PathSettings, ReleaseSettings, SupplyChainSettings
from ..steps.evaluate import load_model
from ..steps.govern import documents as written_documents
from ..steps.govern import model_card_json
from ..tables import read_csv, split


class PackageSummary(TypedDict):
    release: str
    version: str
    files: list[str]
    model_sha256: str
    onnx_max_abs_diff: float
    champion: str | None
    promoted: bool


def package(
    paths: PathSettings,
    data: DataSettings,
    release: ReleaseSettings,
    supply_chain: SupplyChainSettings,
    portability: PortabilityPolicy | None = None,
    extra_files: tuple[Path, ...] = (),
    on_promote: Callable[[str, Path], None] | None = None,
) -> PackageSummary:
    """Write `paths.release/<version>/` (model, signature, card, provenance, governance report), signed.

    The model also goes as model.onnx, once onnxruntime has given the held-out
    rows the probabilities sklearn gives them, within `portability`'s limit
    (portability.json records the gap); otherwise nothing is released.

    `extra_files` join the release as they are and are listed in its manifest:
    the place for more evidence, such as the training reference profile
    (reference.json) that monitoring compares live inputs with. `on_promote`
    (version, model path) hears when the release becomes the champion, so a
    model registry can follow the alias.
    """
    if not Path(paths.governance_report).is_file():
        raise ProjectError(f"{paths.governance_report} not found: run govern first")
    report = read_json(paths.governance_report)
    verdict = report.get("verdict")
    if verdict != "pass":
        raise ProjectError(
            f"{paths.governance_report}: governance verdict is {verdict!r}, not 'pass': nothing released"
        )
    model_sha256 = sha256_file(paths.model)
    if model_sha256 != report.get("model_sha256"):
        raise ProjectError(f"{paths.model} changed after govern checked it: run govern again")
    files = [
        paths.model_card,
        model_card_json(paths.model_card),
        paths.provenance,
        paths.governance_report,
        paths.governance_html,
        written_documents(paths.model_card)["datasheet"],
        written_documents(paths.model_card)["technical_file"],
        *extra_files,
    ]
    model = load_model(paths.model)
    signature = model_signature(model, data.target, data.sensitive_features)
    # Before anything is written: a model that does not export, or whose export disagrees, is not released.
    onnx_model = to_onnx(model)
    frame = read_csv(paths.raw_data)  # read once: the parity check's held-out rows and the reference
    _, held_out = split(frame, data)
    limit = (portability or PortabilityPolicy()).onnx_parity_max_abs_diff
    parity = check_parity(onnx_model, model, held_out, limit)
    # The training reference monitoring compares live inputs with: a small profile, never the rows.
    profile = reference.build(frame, paths.predictions, data)
    documents = {"signature.json": signature, reference.REFERENCE_FILE: profile, REPORT_FILE: dict(parity)}
    written = write_release(
        paths.release,
        paths.model,
        model_sha256,
        files,
        documents,
        signing_key=supply_chain.signing_key,
        binaries={ONNX_FILE: onnx_model},
    )
    promoted = None
    if release.auto_promote and champion(paths.release) != written.version:
        regression = [g for g in report.get("gates", []) if g.get("gate") == "regression"]
        compared = regression[0].get("champion_version") if regression else None
        why = f"governance passed (compared with champion {compared})" if compared else "governance passed"
        promoted = promote(paths.release, written.version, f"package: {why}")
        if on_promote is not None:
            on_promote(written.version, written.model)
    return {
        "release": written.folder.as_posix(),
        "version": written.version,
        "files": sorted(written.manifest["sha256"]),
        "model_sha256": model_sha256,
        "onnx_max_abs_diff": parity["max_abs_diff"],
        "champion": champion(paths.release),
        "promoted": promoted is not None,
    }
