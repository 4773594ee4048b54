"""Intake's event handlers: thin, each delegating to the store inside the consumer's transaction."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from registry_contracts import CaseOpened, Envelope
from services.plumbing.inbox import Subscription
from services.plumbing.service import ServiceState

from . import store


async def on_case_opened(conn: asyncpg.Connection, envelope: Envelope[CaseOpened]) -> None:
    case = envelope.data
    await store.record_case_opened(
        conn, case_id=case.case_id, registry_id=case.registry_id, rule=case.rule, opened_at=case.opened_at
    )


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    return {CaseOpened.cloudevents_type(): Subscription(CaseOpened, on_case_opened)}
