"""The public standing lookup's fast path: answered before the framework, from an in-process cache.

"May I use model X?" is the registry's hottest question. Known models are answered here, from the cached
signed answer; everything else (unknown models, which become usage reports, and every other path) goes on to
the FastAPI app. The cache is kept true by PostgreSQL: any change to what an answer states notifies every
intake process (migration 003), and `follow_answer_changes` drops the copy. While that notification stream is
down the cache is bypassed, and no entry lives longer than `intake_lookup_cache_seconds` in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.types import Scope, Send

from services.plumbing.service import ServiceState

from . import store
from .signing import StandingSigner

log = logging.getLogger(__name__)
PREFIX = "/v1/public/standing/"
HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"public, max-age=30, must-revalidate")]
ANSWER_CHANGED = "intake_answer_changed"  # the channel migration 003's trigger notifies


class AnswerCache:
    """Signed answers by registry id; used only while change notifications are being received."""

    def __init__(self, max_age_seconds: float, max_entries: int = 100_000) -> None:
        self._max_age = max_age_seconds
        self._max = max_entries
        self._answers: dict[str, tuple[float, bytes]] = {}
        self._trusted = False
        self._forgets = 0  # counts invalidations, so an answer read before one is not kept after it

    async def get(self, db: Any, signer: StandingSigner, registry_id: str) -> bytes | None:
        now = time.monotonic()
        hit = self._answers.get(registry_id) if self._trusted else None
        if hit is not None and now - hit[0] < self._max_age:
            return hit[1]
        forgets = self._forgets
        row = await store.standing_row(db, registry_id)
        if row is None:
            return None
        answer = (await signer.current(db, row)).encode()
        if self._trusted and forgets == self._forgets:
            if len(self._answers) >= self._max:
                self._answers.clear()  # simple and bounded; the next lookups refill it
            self._answers[registry_id] = (now, answer)
        return answer

    def forget(self, registry_id: str) -> None:
        self._forgets += 1
        self._answers.pop(registry_id, None)

    def trust(self) -> None:
        """Change notifications are flowing (from now on): start caching, from empty."""
        self.distrust()
        self._trusted = True

    def distrust(self) -> None:
        """Notifications may be missed: forget everything and read through until trusted again."""
        self._forgets += 1
        self._trusted = False
        self._answers.clear()


async def follow_answer_changes(state: ServiceState, *, retry_seconds: float = 1.0) -> None:
    """Background job: LISTEN for answer changes (from any replica) and drop the cached copies; reconnects
    after losing the connection, caching nothing in between."""
    cache: AnswerCache = state.extras["answer_cache"]
    while True:
        try:
            await _listen_until_lost(state, cache)
            log.warning("lost the answer-change notifications; bypassing the lookup cache until reconnected")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("cannot LISTEN for answer changes; bypassing the lookup cache", exc_info=True)
        finally:
            cache.distrust()
        await asyncio.sleep(retry_seconds)


async def _listen_until_lost(state: ServiceState, cache: AnswerCache) -> None:
    lost = asyncio.Event()

    def on_change(_conn: object, _pid: int, _channel: str, registry_id: str) -> None:
        cache.forget(registry_id)

    connection = await state.db.acquire()
    try:
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(ANSWER_CHANGED, on_change)
        cache.trust()  # after LISTEN, so every change from here on is heard
        await lost.wait()
    finally:
        with contextlib.suppress(Exception):
            if not connection.is_closed():
                await connection.remove_listener(ANSWER_CHANGED, on_change)
        with contextlib.suppress(Exception):
            await state.db.release(connection)


class StandingFastPath:
    """The service's front door: GET /v1/public/standing/<known registry id> without routing, middleware or
    spans. Anything else, an unknown id, or a failure (the database down, say) goes on to the framework,
    whose route gives the same answer or a proper problem+json."""

    def __init__(self, state: ServiceState) -> None:
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
