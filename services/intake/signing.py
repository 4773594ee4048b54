"""Signs and keeps public standing answers: once per change of what they state, not per request.

A filing or standing change does not sign: the change drops the stored answer (a trigger, migration 003) and
the next lookup signs and stores it. Filings stay fast, and a model nobody looks up is never signed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import store
from .domain.standing import key_id, sign_answer, standing_answer
from .keys import public_pem


class StandingSigner:
    """Holds the signing key; turns a model's standing row into a signed answer and caches it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id(private_key.public_key())
        self.public_pem = public_pem(private_key).decode()

    def sign_row(self, row: asyncpg.Record | dict[str, Any], *, now: datetime | None = None) -> str:
        developer = row["developer"]
        if isinstance(developer, str):
            developer = json.loads(developer)
        reasons = row["standing_reasons"]
        if isinstance(reasons, str):
            reasons = json.loads(reasons)
        answer = standing_answer(
            registry_id=row["registry_id"],
            model_name=row["model_name"],
            developer=developer,
            standing=row["standing"],
            reasons=list(reasons or []),
            status=row["status"],
            tier=row["tier"],
            standing_since=row["standing_since"],
            signed_at=now or datetime.now(UTC),
        )
        return json.dumps(sign_answer(answer, self._key), separators=(",", ":"))

    def sign_unknown(self, *, model_name: str, developer: str | None, now: datetime) -> str:
        """An answer for a model the registry does not know (signed per request: there is nothing to cache)."""
        answer = standing_answer(
            registry_id=None,
            model_name=model_name,
            developer={"name": developer} if developer else None,
            standing="unknown",
            reasons=["no registered model matches this lookup"],
            status=None,
            tier=None,
            standing_since=None,
            signed_at=now,
        )
        return json.dumps(sign_answer(answer, self._key), separators=(",", ":"))

    async def current(self, db: asyncpg.Pool, row: asyncpg.Record) -> str:
        """The stored answer; signed (and stored) first if there is none yet or another key signed it."""
        if row["signed_answer"] and row["signed_key_id"] == self.key_id:
            stored: str = row["signed_answer"]
            return stored
        signed = self.sign_row(row)
        await store.save_signed_answer(db, row["registry_id"], signed, self.key_id, row_version=row["row_version"])
        return signed
