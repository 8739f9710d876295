"""Supply chain: what a release is made of, who signed it, and whether it is intact.

- `sbom`: a CycloneDX SBOM of the Python environment the steps run in
- `licences`: the SBOM's licences against the policy's allowlist
- `mlbom`: a CycloneDX ML-BOM: the model, its data sets and its evidence
- `dsse`: DSSE envelopes signed with a local ed25519 key
- `release_log`: an append-only, hash-chained log of what happened to releases
- `attest` / `verify`: sign a release folder; check it later, one line per problem
"""

from .attestation import attest, release_log_path
from .verify import VerificationFailed, verify_release

__all__ = ["VerificationFailed", "attest", "release_log_path", "verify_release"]
