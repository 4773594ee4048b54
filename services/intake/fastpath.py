"""The public standing lookup's fast path: answered before the framework, from a short in-process cache.

"May I use model X?" is the registry's hottest question. Known models are answered here, from the cached
signed answer (re-read from PostgreSQL at most every `intake_lookup_cache_seconds`, and dropped at once when
this process applies a standing change); everything else (unknown models, which become usage reports, and
every other path) goes on to the FastAPI app.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import Scope, Send

from . import store
from .signing import StandingSigner

log = logging.getLogger(__name__)
PREFIX = "/v1/public/standing/"
HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"public, max-age=30, must-revalidate")]


class AnswerCache:
    """Signed answers by registry id, each kept for a bounded time."""

    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._answers: dict[str, tuple[float, bytes]] = {}

    async def get(self, db: Any, signer: StandingSigner, registry_id: str) -> bytes | None:
        now = time.monotonic()
        hit = self._answers.get(registry_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        row = await store.standing_row(db, registry_id)
        if row is None:
            return None
        answer = (await signer.current(db, row)).encode()
        if len(self._answers) >= self._max:
            self._answers.clear()  # simple and bounded; the next lookups refill it
        self._answers[registry_id] = (now, answer)
        return answer

    def forget(self, registry_id: str) -> None:
        self._answers.pop(registry_id, None)


class StandingFastPath:
    """The service's front door: GET /v1/public/standing/<known registry id> without routing, middleware or
    spans. Anything else, an unknown id, or a failure (the database down, say) goes on to the framework,
    whose route gives the same answer or a proper problem+json."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def __call__(self, scope: Scope, send: Send) -> bool:
        if scope["method"] != "GET" or not scope["path"].startswith(PREFIX) or self.state.pool is None:
            return False
        registry_id = scope["path"][len(PREFIX) :]
        if not registry_id or "/" in registry_id or "\x00" in registry_id:
            return False
        cache: AnswerCache = self.state.extras["answer_cache"]
        try:
            answer = await cache.get(self.state.pool, self.state.extras["signer"], registry_id)
        except Exception:
            log.warning("standing lookup fast path failed; answering through the framework", exc_info=True)
            return False
        if answer is None:
            return False
        headers = [*HEADERS, (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return True
