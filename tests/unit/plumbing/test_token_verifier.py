"""The token verifier: what it accepts, what it refuses, and that remembering a token never outlives it."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import HTTPException

from services.plumbing.auth import Principal, Role, TokenVerifier

ISSUER, AUDIENCE = "test-issuer", "frontier-registry"


def private_pem(key: Ed25519PrivateKey) -> bytes:
    encoding, private_format = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, private_format, serialization.NoEncryption())


def token(key: Ed25519PrivateKey, **claims: object) -> str:
    now = int(time.time())
    body: dict[str, object] = {"sub": "alice", "roles": ["registrant"], "org": "acme", "iss": ISSUER}
    body |= {"aud": AUDIENCE, "iat": now, "exp": now + 60} | claims
    return jwt.encode(body, private_pem(key), algorithm="EdDSA")


def rejection(verifier: TokenVerifier, text: str) -> str:
    with pytest.raises(HTTPException) as raised:
        verifier.verify(text)
    assert raised.value.status_code == 401
    return str(raised.value.detail)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(key: Ed25519PrivateKey) -> TokenVerifier:
    return TokenVerifier([key.public_key()], issuer=ISSUER, audience=AUDIENCE)


def test_a_valid_token_gives_its_principal_and_the_same_answer_when_remembered(
    key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    text = token(key)
    expected = Principal(subject="alice", roles=frozenset({Role.REGISTRANT}), organisation_id="acme")
    assert verifier.verify(text) == expected
    assert verifier.verify(text) == expected


def test_a_remembered_token_is_refused_once_it_expires(
    key: Ed25519PrivateKey, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = token(key, exp=int(time.time()) + 30)
    verifier.verify(text)
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert "expired" in rejection(verifier, text)


def test_a_token_not_yet_valid_is_refused_also_when_remembered(
    key: Ed25519PrivateKey, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(time.time())
    assert "not yet valid" in rejection(verifier, token(key, nbf=now + 100))
    text = token(key, nbf=now)
    assert verifier.verify(text).subject == "alice"
    monkeypatch.setattr(time, "time", lambda: now - 10)  # the clock stepped back: the remembered token is checked
    assert "not yet valid" in rejection(verifier, text)


def test_forged_tampered_and_misaddressed_tokens_are_refused(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    assert "Signature verification failed" in rejection(verifier, token(Ed25519PrivateKey.generate()))
    header, _, signature = token(key).split(".")
    other_payload = token(key, org="someone-else").split(".")[1]
    assert "Signature verification failed" in rejection(verifier, f"{header}.{other_payload}.{signature}")
    assert "Audience" in rejection(verifier, token(key, aud="another-service"))
    assert "issuer" in rejection(verifier, token(key, iss="someone"))
    assert "unknown role" in rejection(verifier, token(key, roles=["superuser"]))


def test_any_configured_key_verifies_so_keys_can_rotate(key: Ed25519PrivateKey) -> None:
    new_key = Ed25519PrivateKey.generate()
    verifier = TokenVerifier([key.public_key(), new_key.public_key()], issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(token(key)).subject == "alice"
    assert verifier.verify(token(new_key, sub="bob")).subject == "bob"


def test_the_memory_is_bounded(key: Ed25519PrivateKey) -> None:
    verifier = TokenVerifier([key.public_key()], issuer=ISSUER, audience=AUDIENCE, remembered=3)
    for n in range(10):
        assert verifier.verify(token(key, sub=f"user-{n}")).subject == f"user-{n}"
        assert len(verifier._verified) <= 3
