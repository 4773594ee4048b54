"""Signed standing answers: what a third party gets when it asks "may I use model X?", verifiable offline.

An answer is signed once per standing change and cached; its signature covers the canonical JSON of the
answer (sorted keys, no spaces, UTF-8), so anyone with the published Ed25519 public key can check it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "Ed25519"
ISSUER = "frontier-ai-model-registry/intake"
STANDING_EXPLANATIONS = {
    "registered_good_standing": "registered and in good standing: it may be used",
    "under_review": "registered; an enforcement case is open: it may be used while under review",
    "suspended": "suspended: third parties must stop using it",
    "withdrawn": "withdrawn: it may no longer be used",
    "unknown": "not registered: the registry knows no such model",
}


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the signing key, so a verifier can pick the right one after rotation."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def canonical(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def standing_answer(
    *,
    registry_id: str | None,
    model_name: str,
    developer: dict[str, Any] | None,
    standing: str,
    reasons: list[str],
    status: str | None,
    tier: str | None,
    standing_since: datetime | None,
    signed_at: datetime,
) -> dict[str, Any]:
    """The public answer about one model (public fields only)."""
    return {
        "issuer": ISSUER,
        "registry_id": registry_id,
        "model_name": model_name,
        "developer": developer,
        "standing": standing,
        "meaning": STANDING_EXPLANATIONS.get(standing, standing),
        "reasons": reasons,
        "status": status,
        "tier": tier,
        "standing_since": standing_since.isoformat() if standing_since else None,
        "signed_at": signed_at.isoformat(),
    }


def sign_answer(answer: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The answer with its detached Ed25519 signature."""
    signature = private_key.sign(canonical(answer))
    return {
        "answer": answer,
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(signature).decode(),
        },
    }


def verify_answer(signed: dict[str, Any], public_key: Ed25519PublicKey) -> tuple[bool, str]:
    """(valid, why): checks the algorithm, the key id and the signature over the canonical answer."""
    try:
        signature = signed["signature"]
        answer = signed["answer"]
    except (KeyError, TypeError):
        return False, "not a signed registry answer (needs 'answer' and 'signature')"
    if signature.get("algorithm") != ALGORITHM:
        return False, f"unsupported algorithm {signature.get('algorithm')!r}"
    if signature.get("key_id") != key_id(public_key):
        return False, f"signed with key {signature.get('key_id')}, not with the given key {key_id(public_key)}"
    try:
        public_key.verify(base64.b64decode(signature["value"]), canonical(answer))
    except (InvalidSignature, ValueError, KeyError):
        return False, "the signature does not match the answer: it was altered or signed by another key"
    return True, f"valid: {answer.get('registry_id') or answer.get('model_name')} is {answer.get('standing')}"
