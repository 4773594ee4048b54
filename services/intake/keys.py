"""Intake's keys: AES-GCM for restricted fields at rest, Ed25519 for signing public standing answers.

INTAKE_RESTRICTED_KEY holds one or more base64 256-bit keys, comma-separated; the first seals new data and
every one can open (rotation). INTAKE_SIGNING_KEY_FILE is a PEM Ed25519 private key, created there when the
file does not exist (development). Without them the service runs with ephemeral keys and says so loudly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
SEALED_FORMAT = b"RG1"  # version tag of the sealed layout: tag | key id (8) | nonce (12) | ciphertext


class SealError(Exception):
    """Restricted data could not be opened (wrong or missing key, or tampered with)."""


class RestrictedSealer:
    """Encrypts restricted fields with AES-256-GCM, bound to the filing they belong to (associated data)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        for key in keys:
            if len(key) != 32:
                raise ValueError("INTAKE_RESTRICTED_KEY keys must be 32 bytes (base64 of 256 random bits)")
        self._keys = {hashlib.sha256(k).digest()[:8]: AESGCM(k) for k in keys}
        self._current = hashlib.sha256(keys[0]).digest()[:8]

    def seal(self, fields: dict[str, Any], *, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        plaintext = json.dumps(fields, sort_keys=True, default=str).encode()
        ciphertext = self._keys[self._current].encrypt(nonce, plaintext, bound_to.encode())
        return SEALED_FORMAT + self._current + nonce + ciphertext

    def open(self, sealed: bytes, *, bound_to: str) -> dict[str, Any]:
        if not sealed.startswith(SEALED_FORMAT):
            raise SealError("not sealed restricted data")
        key_id, nonce, ciphertext = sealed[3:11], sealed[11:23], sealed[23:]
        aead = self._keys.get(key_id)
        if aead is None:
            raise SealError(f"sealed with key {key_id.hex()}, which this service does not hold")
        try:
            opened: dict[str, Any] = json.loads(aead.decrypt(nonce, ciphertext, bound_to.encode()))
        except InvalidTag as error:
            raise SealError("restricted data failed authentication (wrong key or altered)") from error
        return opened


def restricted_sealer(setting: str | None) -> RestrictedSealer:
    """The sealer for INTAKE_RESTRICTED_KEY. Without a key intake refuses to start: data sealed with a
    throw-away key would be unreadable after a restart, which is losing what was accepted."""
    if not setting:
        raise ValueError(
            "INTAKE_RESTRICTED_KEY is required (base64 AES-256 key); make one with: "
            "python -c 'from services.intake.keys import new_restricted_key; print(new_restricted_key())'"
        )
    try:
        keys = [base64.b64decode(part.strip(), validate=True) for part in setting.split(",") if part.strip()]
    except binascii.Error as error:
        raise ValueError("INTAKE_RESTRICTED_KEY must be base64 (comma-separated for rotation)") from error
    return RestrictedSealer(keys)


def new_restricted_key() -> str:
    """A fresh INTAKE_RESTRICTED_KEY value."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def signing_key(path: str | None) -> Ed25519PrivateKey:
    """The Ed25519 key that signs standing answers; created at `path` (0600, with a .pub.pem) if missing."""
    if not path:
        # A throw-away key would make yesterday's signed answers unverifiable against today's published key.
        raise ValueError("INTAKE_SIGNING_KEY_FILE is required (a PEM path; the key is created there if missing)")
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Created with 0600 from the start: never readable by others, not even briefly.
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        file.with_suffix(".pub.pem").write_bytes(public_pem(key))
        return key
    loaded = serialization.load_pem_private_key(file.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return loaded


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
