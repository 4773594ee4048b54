"""Enforcement's event handlers: findings from other services are judged against the rules; breaches
open a case once per (model, rule) and update it afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import CaseOpened, ComputeVerified, Envelope, new_envelope
from services.plumbing.inbox import Subscription
from services.plumbing.rule_profile import RuleProfile
from services.plumbing.service import ServiceState

from . import store
from .domain import ComputeVerificationFinding, apply_breach, case_key, evaluate_trigger


def finding_from_event(verified: ComputeVerified, profile: RuleProfile) -> ComputeVerificationFinding:
    estimates = [e.flop for e in verified.estimates if e.flop is not None]
    return ComputeVerificationFinding(
        registry_id=verified.registry_id,
        version=verified.version,
        status=verified.status.value,
        declared_flop=verified.declared_training_flop,
        max_estimate_flop=max(estimates) if estimates else None,
        # No estimate means no tolerance was applied; the profile's stands in for the record.
        tolerance_factor=verified.tolerance_factor or profile.verification.tolerance_factor,
        summary=verified.explanation,
        verified_at=verified.verified_at,
    )


def make_verified_handler(profile: RuleProfile) -> Any:
    async def on_compute_verified(conn: asyncpg.Connection, envelope: Envelope[ComputeVerified]) -> None:
        verified = envelope.data
        breach = evaluate_trigger(finding_from_event(verified, profile), profile)

        async def record(decision: str, rule: str | None = None, case_id: str | None = None) -> None:
            await store.record_decision(
                conn,
                source_event_id=envelope.id,
                registry_id=verified.registry_id,
                version=verified.version,
                rule=rule,
                decision=decision,
                case_id=case_id,
                correlation_id=envelope.correlationid,
            )

        if breach is None:
            await record("no_action")
            return
        now = datetime.now(UTC)
        model_key, rule = case_key(breach)
        existing = await store.open_case_for(conn, model_key, rule)
        new_case_id = existing.id if existing else await store.next_case_id(conn, now.year)
        change = apply_breach(existing, breach, now, new_case_id=new_case_id)
        await store.save_change(conn, change)
        if change.opened:
            opened = CaseOpened(
                case_id=change.case.id,
                registry_id=verified.registry_id,
                rule=rule,
                summary=breach.summary,
                opened_at=change.case.opened_at,
                evidence_event_id=str(envelope.id),
            )
            await store.publish_case_opened(
                conn,
                new_envelope(
                    opened,
                    subject=verified.registry_id,
                    correlation_id=envelope.correlationid,
                    causation_id=str(envelope.id),
                ),
            )
        await record("case_opened" if change.opened else "case_updated", rule, change.case.id)

    return on_compute_verified


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    return {ComputeVerified.cloudevents_type(): Subscription(ComputeVerified, make_verified_handler(state.profile))}
