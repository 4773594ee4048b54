"""Evaluations' event handlers: plans on verification, amendment and incident; lab results (lab_results.py).

Amendments re-plan through verification: an AmendmentSubmitted is re-verified (its cumulative compute may
change the tier), and the ComputeVerified for the new version (trigger "amendment", or any version above
1) supersedes the old version's open requests and plans the new one. Incidents come straight from
intake.filings.v1: the model's latest verified version is planned again with the incident as trigger.
"""

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
    Tier,
    UnassignedDomain,
    new_envelope,
)
from registry_contracts.events.intake import IncidentReported
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
    )


async def plan_and_store(
    conn: asyncpg.Connection,
    *,
    model: ModelUnderEvaluation,
    trigger: PlanTrigger,
    profile: RuleProfile,
    catalogue: EvaluationCatalogue,
    cause: Envelope[Any],
) -> EvaluationPlan:
    """Plan, then store the plan with its EvaluationsPlanned event and one EvaluationRequested per new request."""
    plan = plan_evaluations(
        model=model,
        trigger=trigger,
        labs=await store.list_labs(conn, for_update=True),
        open_load=await store.open_load(conn),
        existing_requests=await store.requests_for_model(conn, model.registry_id),
        profile=profile,
        catalogue=catalogue,
        now=datetime.now(UTC),
    )

    def caused(event: Any) -> Envelope[Any]:
        return new_envelope(
            event, subject=model.registry_id, correlation_id=cause.correlationid, causation_id=str(cause.id)
        )

    lab_requests = [(r.lab_id, caused(lab_request_message(r))) for r in plan.requests]
    await store.save_plan(conn, plan, caused(plan_event(plan)), lab_requests)
    return plan


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
        model = ModelUnderEvaluation(
            registry_id=incident.registry_id,
            version=known["version"],
            developer=known["developer"],
            model_name=known["model_name"],
            tier=Tier(known["tier"]),
            planned_deployment_date=known["planned_deployment_date"],
        )
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
