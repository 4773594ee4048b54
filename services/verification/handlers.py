"""Verification's event handlers: a filing arrives, its declared compute is judged, the outcome published."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import (
    ComputeEstimate,
    ComputeVerified,
    Envelope,
    RegistrationSubmitted,
    Tier,
    VerificationStatus,
    new_envelope,
)
from services.plumbing.inbox import Subscription
from services.plumbing.rule_profile import RuleProfile
from services.plumbing.service import ServiceState

from . import store
from .domain import (
    ChipCatalogue,
    ComputeDeclaration,
    VerificationInputError,
    VerificationOutcome,
    classify_tier,
    format_flop,
    verify_declared_compute,
)

CATALOGUE_KEY = "chip_catalogue"


def declaration_from_filing(filing: RegistrationSubmitted) -> ComputeDeclaration:
    """The domain's view of a registration's compute inputs."""
    compute = filing.compute
    return ComputeDeclaration(
        developer=filing.developer.legal_name,
        model_name=filing.model_name,
        declared_training_flop=compute.declared_training_flop,
        parameters=compute.parameters,
        active_parameters=compute.active_parameters,
        is_mixture_of_experts=compute.is_mixture_of_experts,
        training_tokens=compute.training_tokens,
        epochs=compute.epochs,
        chip_type=compute.chip_type,
        chip_count=compute.chip_count,
        training_hours=compute.training_hours,
        declared_utilisation=compute.declared_utilisation,
        number_format=compute.number_format,
        training_start=compute.training_start,
        training_end=compute.training_end,
        cluster_id=compute.cluster_id,
        trained_mainly_on_biological_sequences=compute.trained_mainly_on_biological_sequences,
    )


def outcome_event(filing: RegistrationSubmitted, outcome: VerificationOutcome, *, now: datetime) -> ComputeVerified:
    threshold = outcome.threshold_at_stake
    return ComputeVerified(
        registry_id=filing.registry_id,
        version=filing.version,
        developer=filing.developer,
        model_name=filing.model_name,
        status=VerificationStatus(outcome.status.value),
        declared_training_flop=outcome.declared_training_flop,
        estimates=[
            ComputeEstimate(
                method=e.method.value,
                flop=e.value_flop,
                low_flop=e.low_flop,
                high_flop=e.high_flop,
                reasons=list(e.reasons),
            )
            for e in outcome.estimates
        ],
        tolerance_factor=outcome.tolerance_factor or 0.0,
        threshold_flop=threshold[1] if threshold else None,
        declared_tier=Tier(outcome.declared_tier.tier.value),
        verified_tier=Tier(outcome.estimated_tier.tier.value),
        explanation=outcome.summary,
        planned_deployment_date=filing.planned_deployment_date,
        verified_at=now,
        rule_profile_id=outcome.rule_profile_id,
    )


def unverifiable_event(
    filing: RegistrationSubmitted, error: VerificationInputError, profile: RuleProfile, *, now: datetime
) -> ComputeVerified:
    """A declaration the estimators cannot use is insufficient evidence, said plainly, never a crash."""
    declared = filing.compute.declared_training_flop
    tier = classify_tier(training_flop=declared, thresholds=profile.thresholds).tier
    return ComputeVerified(
        registry_id=filing.registry_id,
        version=filing.version,
        developer=filing.developer,
        model_name=filing.model_name,
        status=VerificationStatus.INSUFFICIENT_EVIDENCE,
        declared_training_flop=declared,
        estimates=[],
        tolerance_factor=0.0,
        declared_tier=Tier(tier.value),
        verified_tier=Tier(tier.value),
        explanation=f"Declared {format_flop(declared)} FLOP could not be checked: {error}.",
        planned_deployment_date=filing.planned_deployment_date,
        verified_at=now,
        rule_profile_id=profile.id,
    )


def make_registration_handler(profile: RuleProfile, catalogue: ChipCatalogue) -> Any:
    async def on_registration_submitted(conn: asyncpg.Connection, envelope: Envelope[RegistrationSubmitted]) -> None:
        filing = envelope.data
        now = datetime.now(UTC)
        await store.save_declaration(conn, filing, correlation_id=envelope.correlationid)
        details: dict[str, Any] = {}
        try:
            outcome = verify_declared_compute(declaration_from_filing(filing), (), profile, catalogue)
            event = outcome_event(filing, outcome, now=now)
            details = {"reasons": list(outcome.reasons), "notes": list(outcome.notes)}
            details["comparisons"] = [dataclasses.asdict(c) for c in outcome.comparisons]
        except VerificationInputError as error:
            event = unverifiable_event(filing, error, profile, now=now)
        out = new_envelope(
            event,
            subject=filing.registry_id,
            correlation_id=envelope.correlationid,
            causation_id=str(envelope.id),
        )
        await store.save_outcome(conn, out, details)

    return on_registration_submitted


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    catalogue: ChipCatalogue = state.extras[CATALOGUE_KEY]
    return {
        RegistrationSubmitted.cloudevents_type(): Subscription(
            RegistrationSubmitted, make_registration_handler(state.profile, catalogue)
        )
    }
