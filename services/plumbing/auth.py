"""Who is calling: JWT bearer tokens verified against configured public keys, and the roles they carry.

Tokens come from an OIDC provider in production and from `./dev token` locally. Claims the registry reads:
`sub`, `roles` (list of Role values), `org` (registrant's or provider's organisation id), `lab` (a lab's id),
plus the standard `iss`, `aud`, `exp`. Every endpoint but public lookups and operations probes requires one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, HTTPException, Request

ALGORITHMS = ["EdDSA", "RS256", "ES256"]


class Role(StrEnum):
    REGISTRANT = "registrant"  # a developer, scoped to its organisation
    COMPUTE_PROVIDER = "compute_provider"
    LAB = "lab"  # an accredited evaluation lab, scoped to itself
    OFFICER = "officer"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    organisation_id: str | None = None
    lab_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_agency_staff(self) -> bool:
        return self.has(Role.OFFICER, Role.ANALYST, Role.ADMIN)


class TokenVerifier:
    """Verifies signature, expiry, issuer and audience against every configured key.

    A client sends the same token on every request until it expires, and checking its signature is the
    costliest step of a small request; so a verified token is remembered (by its exact text, which the
    signature covers) and only its time claims are checked again.
    """

    def __init__(self, keys: Iterable[Any], *, issuer: str, audience: str, remembered: int = 10_000) -> None:
        self._keys = list(keys)
        if not self._keys:
            raise ValueError("no token verification keys configured (set AUTH_PUBLIC_KEYS_FILE or AUTH_JWKS_FILE)")
        self._issuer = issuer
        self._audience = audience
        self._remembered = remembered
        self._verified: dict[str, tuple[Principal, float, float]] = {}  # token -> principal, not before, expiry

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, not_before, expires = known
            now = time.time()
            if now >= expires:
                del self._verified[token]
                raise _unauthorized("invalid token: Signature has expired")
            if now < not_before:
                raise _unauthorized("invalid token: The token is not yet valid (nbf)")
            return principal
        claims = self._verified_claims(token)
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except ValueError as error:
            raise _unauthorized(f"invalid token: unknown role ({error})") from error
        principal = Principal(
            subject=str(claims["sub"]),
            roles=roles,
            organisation_id=claims.get("org"),
            lab_id=claims.get("lab"),
        )
        if len(self._verified) >= self._remembered:
            self._verified.clear()  # bounded; the next requests refill it
        self._verified[token] = (principal, float(claims.get("nbf", 0)), float(claims["exp"]))
        return principal

    def _verified_claims(self, token: str) -> dict[str, Any]:
        claims: dict[str, Any] | None = None
        last_error: Exception | None = None
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=ALGORITHMS,
                    issuer=self._issuer,
                    audience=self._audience,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                break
            except jwt.InvalidSignatureError as error:
                last_error = error  # try the next key (key rotation)
            except jwt.PyJWTError as error:
                raise _unauthorized(f"invalid token: {error}") from error
        if claims is None:
            raise _unauthorized(f"invalid token: {last_error}")
        return claims


def load_keys(*, pem_file: str | None, jwks_file: str | None) -> list[Any]:
    """Public keys from a PEM file (one or more keys) and/or a JWKS document."""
    keys: list[Any] = []
    if pem_file:
        text = Path(pem_file).read_text(encoding="utf-8")
        marker = "-----END PUBLIC KEY-----"
        for block in text.split(marker):
            if "-----BEGIN PUBLIC KEY-----" in block:
                keys.append(load_pem_public_key((block.strip() + "\n" + marker + "\n").encode()))
    if jwks_file:
        document = json.loads(Path(jwks_file).read_text(encoding="utf-8"))
        keys += [jwt.PyJWK(jwk).key for jwk in document.get("keys", [])]
    return keys


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="registry"'})


async def authenticated(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, or 401 with a clear reason.

    Async on purpose: FastAPI runs a plain `def` dependency in a thread pool, a hop per request for
    a signature check that takes microseconds."""
    return _verified_bearer(request, request.headers.get("authorization", ""))


async def optional_caller(request: Request) -> Principal | None:
    """The caller when a token is sent, else None (endpoints anyone may use); a bad token is still a 401."""
    header = request.headers.get("authorization")
    return _verified_bearer(request, header) if header else None


def _verified_bearer(request: Request, header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a bearer token is required (Authorization: Bearer <JWT>)")
    verifier: TokenVerifier = request.app.state.service.verifier
    return verifier.verify(token.strip())


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """FastAPI dependency factory: the caller must hold at least one of `roles`, else 403."""

    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not principal.has(*roles):
            wanted = ", ".join(sorted(r.value for r in roles))
            held = ", ".join(sorted(r.value for r in principal.roles)) or "none"
            raise HTTPException(403, f"this needs one of the roles [{wanted}]; the token has [{held}]")
        return principal

    return check
