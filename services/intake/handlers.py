"""Intake's event handlers: thin, each delegating to the store inside the consumer's transaction."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from registry_contracts import CaseOpened, Envelope
from registry_contracts.events.enforcement import StandingChanged
from services.plumbing.inbox import Subscription
from services.plumbing.service import ServiceState

from . import store
from .fastpath import AnswerCache


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    cache: AnswerCache = state.extras["answer_cache"]

    async def on_case_opened(conn: asyncpg.Connection, envelope: Envelope[CaseOpened]) -> None:
        case = envelope.data
        changed = await store.record_case_opened(
            conn, case_id=case.case_id, registry_id=case.registry_id, rule=case.rule, opened_at=case.opened_at
        )
        if changed:  # the stored signed answer is dropped by the database (migration 003); this process's copy here
            cache.forget(case.registry_id)

    async def on_standing_changed(conn: asyncpg.Connection, envelope: Envelope[StandingChanged]) -> None:
        change = envelope.data
        applied = await store.apply_standing(
            conn,
            change.registry_id,
            standing=change.standing.value,
            reasons=change.reasons,
            since=change.effective_at,
        )
        if applied:
            cache.forget(change.registry_id)

    return {
        CaseOpened.cloudevents_type(): Subscription(CaseOpened, on_case_opened),
        StandingChanged.cloudevents_type(): Subscription(StandingChanged, on_standing_changed),
    }
