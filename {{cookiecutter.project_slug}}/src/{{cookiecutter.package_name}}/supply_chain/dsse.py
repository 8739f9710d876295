"""DSSE envelopes (the in-toto attestation wrapper) signed with a local ed25519 key.

The signature covers DSSE's pre-authentication encoding of the payload type
and the payload bytes, so neither can be swapped without breaking it. The key
is made on first use at the path in params.yaml (supply_chain.signing_key),
owner-readable only, with its public half beside it (`.pub`); `verify` trusts
the public key you give it, never one shipped inside the release. For CI,
keyless signing with Sigstore is the better choice: see docs/supply-chain.md.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ProjectError
from ..files import atomic_path

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature is over."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def public_key_path(private_key: Path) -> Path:
    return Path(private_key).with_suffix(".pub")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The sha256 of the raw public key: which key signed, without trusting the name."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at `path`, made (with its .pub beside it) if there is none yet."""
    path = Path(path)
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError):
            raise ProjectError(f"{path} is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ProjectError(f"{path} is not an ed25519 key")
        if not public_key_path(path).exists():
            _write_public(key, public_key_path(path))
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_public(key, public_key_path(path))
    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)
        tmp.write_bytes(pem)
    return key


def _write_public(key: Ed25519PrivateKey, path: Path) -> None:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with atomic_path(path) as tmp:
        tmp.write_bytes(public)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: pass the release signer's public key with --key") from None
    except (OSError, ValueError):
        raise ProjectError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ProjectError(f"{path} is not an ed25519 public key")
    return key


def sign(statement: dict, key: Ed25519PrivateKey) -> dict:
    """A DSSE envelope holding `statement`, signed by `key`."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def open_envelope(envelope: dict, public_key: Ed25519PublicKey) -> dict | None:
    """The statement inside `envelope` if one of its signatures is `public_key`'s, else None."""
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        signed = pae(envelope["payloadType"], payload)
        for signature in envelope.get("signatures", []):
            try:
                public_key.verify(base64.b64decode(signature["sig"], validate=True), signed)
            except (InvalidSignature, ValueError, KeyError, TypeError):
                continue
            return json.loads(payload)
    except (KeyError, TypeError, ValueError):
        return None
    return None
