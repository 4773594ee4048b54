"""Evaluations' event handlers: plans on verification, amendment and incident; lab results (lab_results.py).

Amendments re-plan through verification: an AmendmentSubmitted is re-verified (its cumulative compute may
change the tier), and the ComputeVerified for the new version (trigger "amendment", or any version above
1) supersedes the old version's open requests and plans the new one. Incidents come straight from
intake.filings.v1: the model's latest verified version is planned again with the incident as trigger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import (
    ComputeVerified,
    Envelope,
    EvaluationsPlanned,
    PlannedRequest,
    Tier,
    UnassignedDomain,
    new_envelope,
)
from registry_contracts.events.intake import IncidentReported
from services.plumbing import audit
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
    lab_request_message,
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
        trigger=plan.trigger.kind.value,
        trigger_reference=plan.trigger.reference or None,
    )


async def make_plan(
    conn: asyncpg.Connection,
    *,
    model: ModelUnderEvaluation,
    trigger: PlanTrigger,
    profile: RuleProfile,
    catalogue: EvaluationCatalogue,
    waiting_only: Collection[str] | None = None,
) -> EvaluationPlan:
    """Plan against the labs as they are now; every lab row is locked until the caller's transaction ends,
    so two plans cannot both take a lab's last free slot."""
    return plan_evaluations(
        model=model,
        trigger=trigger,
        labs=await store.list_labs(conn, for_update=True),
        open_load=await store.open_load(conn),
        existing_requests=await store.requests_for_model(conn, model.registry_id),
        profile=profile,
        catalogue=catalogue,
        now=datetime.now(UTC),
        waiting_only=waiting_only,
    )


async def store_plan(
    conn: asyncpg.Connection, plan: EvaluationPlan, *, cause: Envelope[Any] | None, requested_by: str | None = None
) -> None:
    """Store the plan with its EvaluationsPlanned event, one EvaluationRequested per new request, and an audit
    entry naming who decided (the regulator's officer, or the system acting on an event or a schedule)."""

    def caused(event: Any) -> Envelope[Any]:
        if cause is None:
            return new_envelope(event, subject=plan.registry_id)
        return new_envelope(
            event, subject=plan.registry_id, correlation_id=cause.correlationid, causation_id=str(cause.id)
        )

    lab_requests = [(r.lab_id, caused(lab_request_message(r))) for r in plan.requests]
    planned = caused(plan_event(plan))
    await store.save_plan(conn, plan, planned, lab_requests, requested_by=requested_by)
    await audit.record(
        conn,
        actor=requested_by or "system",
        action="decision.evaluations_planned",
        subject=plan.registry_id,
        detail={
            "version": plan.model_version,
            "trigger": plan.trigger.kind.value,
            "reference": plan.trigger.reference,
            "requests": [{"domain": r.domain, "lab_id": r.lab_id, "request_id": r.request_id} for r in plan.requests],
            "unassigned": [u.domain for u in plan.unassignable],
            "superseded": [s.request_id for s in plan.supersede],
            "event_id": planned.id,
        },
    )


async def plan_and_store(
    conn: asyncpg.Connection,
    *,
    model: ModelUnderEvaluation,
    trigger: PlanTrigger,
    profile: RuleProfile,
    catalogue: EvaluationCatalogue,
    cause: Envelope[Any] | None,
    requested_by: str | None = None,
) -> EvaluationPlan:
    """Plan, then store it (store_plan)."""
    plan = await make_plan(conn, model=model, trigger=trigger, profile=profile, catalogue=catalogue)
    await store_plan(conn, plan, cause=cause, requested_by=requested_by)
    return plan


def known_model(row: Mapping[str, Any]) -> ModelUnderEvaluation:
    """The model as evaluations last saw it verified (its `models` row)."""
    return ModelUnderEvaluation(
        registry_id=row["registry_id"],
        version=row["version"],
        developer=row["developer"],
        model_name=row["model_name"],
        tier=Tier(row["tier"]),
        planned_deployment_date=row["planned_deployment_date"],
    )


def make_verified_handler(profile: RuleProfile, catalogue: EvaluationCatalogue) -> Any:
    async def on_compute_verified(conn: asyncpg.Connection, envelope: Envelope[ComputeVerified]) -> None:
        verified = envelope.data
        model = ModelUnderEvaluation(
            registry_id=verified.registry_id,
            version=verified.version,
            developer=verified.developer.legal_name,
            model_name=verified.model_name,
            tier=verified.verified_tier,
            planned_deployment_date=verified.planned_deployment_date,
        )
        await store.remember_model(
            conn,
            registry_id=model.registry_id,
            version=model.version,
            tier=model.tier.value,
            developer=model.developer,
            model_name=verified.model_name,
            planned_deployment_date=model.planned_deployment_date,
        )
        amended = verified.version > 1 or verified.trigger == "amendment"
        kind = TriggerKind.SUBSTANTIAL_AMENDMENT if amended else TriggerKind.REGISTRATION
        await plan_and_store(
            conn, model=model, trigger=PlanTrigger(kind=kind), profile=profile, catalogue=catalogue, cause=envelope
        )
        # Incidents reported before the model was first verified are planned now.
        for incident_id in await store.take_pending_incidents(conn, verified.registry_id):
            trigger = PlanTrigger(kind=TriggerKind.INCIDENT, reference=incident_id)
            await plan_and_store(
                conn, model=model, trigger=trigger, profile=profile, catalogue=catalogue, cause=envelope
            )

    return on_compute_verified


def make_incident_handler(profile: RuleProfile, catalogue: EvaluationCatalogue) -> Any:
    async def on_incident_reported(conn: asyncpg.Connection, envelope: Envelope[IncidentReported]) -> None:
        incident = envelope.data
        known = await store.get_model(conn, incident.registry_id)
        if known is None:
            await store.add_pending_incident(
                conn, registry_id=incident.registry_id, incident_id=incident.incident_id, event_id=envelope.id
            )
            return
        model = known_model(known)
        trigger = PlanTrigger(kind=TriggerKind.INCIDENT, reference=incident.incident_id)
        await plan_and_store(conn, model=model, trigger=trigger, profile=profile, catalogue=catalogue, cause=envelope)

    return on_incident_reported


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    catalogue: EvaluationCatalogue = state.extras[CATALOGUE_KEY]
    return {
        ComputeVerified.cloudevents_type(): Subscription(
            ComputeVerified, make_verified_handler(state.profile, catalogue)
        ),
        IncidentReported.cloudevents_type(): Subscription(
            IncidentReported, make_incident_handler(state.profile, catalogue)
        ),
    }
