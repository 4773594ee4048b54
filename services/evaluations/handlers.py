"""Evaluations' event handlers: a verified model version gets the evaluation plan its tier requires."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import (
    ComputeVerified,
    Envelope,
    EvaluationsPlanned,
    PlannedRequest,
    UnassignedDomain,
    new_envelope,
)
from services.plumbing.inbox import Subscription
from services.plumbing.rule_profile import RuleProfile
from services.plumbing.service import ServiceState

from . import store
from .domain import (
    EvaluationCatalogue,
    EvaluationPlan,
    ModelUnderEvaluation,
    PlanTrigger,
    TriggerKind,
    plan_evaluations,
)

CATALOGUE_KEY = "evaluation_catalogue"


def plan_event(plan: EvaluationPlan) -> EvaluationsPlanned:
    return EvaluationsPlanned(
        registry_id=plan.registry_id,
        version=plan.model_version,
        tier=plan.tier,
        required_domains=list(plan.required_domains),
        requests=[
            PlannedRequest(request_id=r.request_id, domain=r.domain, lab_id=r.lab_id, deadline=r.deadline)
            for r in plan.requests
        ],
        unassigned=[UnassignedDomain(domain=u.domain, reason=u.reason) for u in plan.unassignable],
        planned_at=plan.planned_at,
        rule_profile_id=plan.rule_profile_id,
    )


def make_verified_handler(profile: RuleProfile, catalogue: EvaluationCatalogue) -> Any:
    async def on_compute_verified(conn: asyncpg.Connection, envelope: Envelope[ComputeVerified]) -> None:
        verified = envelope.data
        model = ModelUnderEvaluation(
            registry_id=verified.registry_id,
            version=verified.version,
            developer=verified.developer.legal_name,
            tier=verified.verified_tier,
            planned_deployment_date=verified.planned_deployment_date,
        )
        kind = TriggerKind.REGISTRATION if verified.version == 1 else TriggerKind.SUBSTANTIAL_AMENDMENT
        plan = plan_evaluations(
            model=model,
            trigger=PlanTrigger(kind=kind),
            labs=await store.list_labs(conn, for_update=True),
            open_load=await store.open_load(conn),
            existing_requests=await store.requests_for_model(conn, verified.registry_id),
            profile=profile,
            catalogue=catalogue,
            now=datetime.now(UTC),
        )
        out = new_envelope(
            plan_event(plan),
            subject=verified.registry_id,
            correlation_id=envelope.correlationid,
            causation_id=str(envelope.id),
        )
        await store.save_plan(conn, plan, out)

    return on_compute_verified


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    catalogue: EvaluationCatalogue = state.extras[CATALOGUE_KEY]
    return {
        ComputeVerified.cloudevents_type(): Subscription(
            ComputeVerified, make_verified_handler(state.profile, catalogue)
        )
    }
