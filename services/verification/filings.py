"""Between the wire and the domain: filing events become declarations, outcomes become ComputeVerified.

Registrations and amendments are kept as their event payloads (store.StoredDeclaration), so a later
attestation can rebuild exactly the declaration that was verified and run it again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from registry_contracts import ComputeEstimate, ComputeInputs, ComputeVerified, Developer, Tier, VerificationStatus
from registry_contracts.events.intake import AmendmentSubmitted, ComputeAttested, RegistrationSubmitted
from services.plumbing.rule_profile import RuleProfile

from .domain import (
    ComputeAttestation,
    ComputeDeclaration,
    PriorCompute,
    VerificationInputError,
    VerificationOutcome,
    classify_tier,
    format_flop,
)
from .store import StoredDeclaration

REGISTRATION = "registration"
AMENDMENT = "amendment"


@dataclass(frozen=True)
class FilingContext:
    """Who and what a verification is about (copied onto the ComputeVerified event)."""

    registry_id: str
    version: int
    developer: Developer
    model_name: str
    planned_deployment_date: date | None


@dataclass(frozen=True)
class PreparedDeclaration:
    """A stored filing version ready for the domain: the declaration and what only amendments have."""

    context: FilingContext
    declaration: ComputeDeclaration
    modification_trained: bool
    notes: tuple[str, ...]


def _inputs(compute: ComputeInputs) -> dict[str, Any]:
    return {
        "parameters": compute.parameters,
        "active_parameters": compute.active_parameters,
        "is_mixture_of_experts": compute.is_mixture_of_experts,
        "training_tokens": compute.training_tokens,
        "epochs": compute.epochs,
        "chip_type": compute.chip_type,
        "chip_count": compute.chip_count,
        "training_hours": compute.training_hours,
        "declared_utilisation": compute.declared_utilisation,
        "number_format": compute.number_format,
        "training_start": compute.training_start,
        "training_end": compute.training_end,
        "cluster_id": compute.cluster_id,
    }


def registration_figures(filing: RegistrationSubmitted) -> tuple[float, bool, bool]:
    """(declared cumulative FLOP, designated, mainly biological) of a registration, as stored."""
    compute = filing.compute
    cumulative = compute.declared_training_flop + (filing.base_model_training_flop or 0.0)
    return cumulative, filing.designated, compute.trained_mainly_on_biological_sequences


def prepare(stored: StoredDeclaration) -> PreparedDeclaration:
    """Rebuild the domain declaration of a stored registration or amendment. Raises VerificationInputError."""
    if stored.kind == AMENDMENT:
        return _prepare_amendment(stored)
    filing = RegistrationSubmitted.model_validate(stored.filing)
    context = FilingContext(
        filing.registry_id, filing.version, filing.developer, filing.model_name, filing.planned_deployment_date
    )
    declaration = ComputeDeclaration(
        # Matched against attestations' customers: the stable organisation id, not a spelling of a name.
        developer=filing.developer.organisation_id,
        model_name=filing.model_name,
        declared_training_flop=filing.compute.declared_training_flop,
        trained_mainly_on_biological_sequences=filing.compute.trained_mainly_on_biological_sequences,
        base_model_training_flop=filing.base_model_training_flop,
        designated=stored.designated,  # the filing's flag, or the regulator's decision in force (handlers.py)
        registry_id=filing.registry_id,
        **_inputs(filing.compute),
    )
    return PreparedDeclaration(context, declaration, modification_trained=True, notes=())


def _prepare_amendment(stored: StoredDeclaration) -> PreparedDeclaration:
    filing = AmendmentSubmitted.model_validate(stored.filing)
    context = FilingContext(
        filing.registry_id, filing.version, filing.developer, filing.model_name, filing.planned_deployment_date
    )
    cumulative = filing.cumulative_training_flop
    common: dict[str, Any] = {
        "developer": filing.developer.organisation_id,
        "model_name": filing.model_name,
        "designated": stored.designated,
        "registry_id": filing.registry_id,
    }
    modification = filing.modification_compute
    if modification is None:  # no training (e.g. a new deployment mode): only the cumulative figure to check
        declaration = ComputeDeclaration(
            declared_training_flop=cumulative, trained_mainly_on_biological_sequences=stored.biological, **common
        )
        return PreparedDeclaration(context, declaration, modification_trained=False, notes=())
    own = modification.declared_training_flop
    notes: tuple[str, ...] = ()
    if cumulative < own:
        notes = (
            f"the declared cumulative {format_flop(cumulative)} FLOP is below the modification's own "
            f"{format_flop(own)} FLOP; the modification alone was taken as the cumulative figure",
        )
    declaration = ComputeDeclaration(
        declared_training_flop=own,
        base_model_training_flop=cumulative - own if cumulative > own else None,
        trained_mainly_on_biological_sequences=stored.biological or modification.trained_mainly_on_biological_sequences,
        **common,
        **_inputs(modification),
    )
    return PreparedDeclaration(context, declaration, modification_trained=True, notes=notes)


def prior_compute(
    previous: StoredDeclaration | None, verified_flop: float | None, verified_by: str | None
) -> PriorCompute | None:
    if previous is None:
        return None
    return PriorCompute(
        version=previous.version,
        declared_cumulative_flop=previous.declared_cumulative_flop,
        verified_flop=verified_flop,
        verified_by=verified_by,
    )


def attestation_for_domain(event: ComputeAttested) -> ComputeAttestation:
    """The domain's view of an attestation. Raises VerificationInputError for values it cannot use."""
    return ComputeAttestation(
        attestation_id=event.attestation_id,
        provider=event.provider_name or event.provider_id,
        customer=event.customer.organisation_id,
        chip_type=event.chip_type,
        chip_hours=event.chip_hours,
        period_start=event.period_start,
        period_end=event.period_end,
        cluster_id=event.cluster_id,
        utilisation=event.utilisation,
        chip_count=event.chip_count,
        registry_id=event.registry_id,
    )


def outcome_event(
    context: FilingContext, outcome: VerificationOutcome, *, run: int, trigger: str, now: datetime
) -> ComputeVerified:
    threshold = outcome.threshold_at_stake
    return ComputeVerified(
        registry_id=context.registry_id,
        version=context.version,
        developer=context.developer,
        model_name=context.model_name,
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
        planned_deployment_date=context.planned_deployment_date,
        verified_at=now,
        rule_profile_id=outcome.rule_profile_id,
        run=run,
        trigger=trigger,
    )


def outcome_details(outcome: VerificationOutcome) -> dict[str, Any]:
    """What an officer reads beyond the event: every reason, note, comparison and attestation match."""
    return {
        "reasons": list(outcome.reasons),
        "notes": list(outcome.notes),
        "comparisons": [dataclasses.asdict(c) for c in outcome.comparisons],
        "attestation_matches": [dataclasses.asdict(m) for m in outcome.attestation_matches],
        "cumulative_declared_flop": outcome.cumulative_declared_flop,
        "declared_tier_reasons": list(outcome.declared_tier.reasons),
        "verified_tier_reasons": list(outcome.estimated_tier.reasons),
        "verified_by": outcome.estimated_tier.decided_by,
    }


def unverifiable_event(
    stored: StoredDeclaration,
    error: VerificationInputError,
    profile: RuleProfile,
    *,
    run: int,
    trigger: str,
    now: datetime,
    notes: tuple[str, ...] = (),
) -> ComputeVerified:
    """A declaration the estimators cannot use is insufficient evidence, said plainly, never a crash."""
    filing = stored.filing
    declared = stored.declared_cumulative_flop
    tier = classify_tier(
        training_flop=declared,
        thresholds=profile.thresholds,
        trained_mainly_on_biological_sequences=stored.biological,
        designated=stored.designated,
    ).tier
    return ComputeVerified(
        registry_id=stored.registry_id,
        version=stored.version,
        developer=Developer.model_validate(filing["developer"]),
        model_name=filing["model_name"],
        status=VerificationStatus.INSUFFICIENT_EVIDENCE,
        declared_training_flop=declared,
        estimates=[],
        tolerance_factor=0.0,
        declared_tier=Tier(tier.value),
        verified_tier=Tier(tier.value),
        explanation=f"Declared {format_flop(declared)} FLOP could not be checked: {error}."
        + "".join(f" Note: {n}." for n in notes),
        planned_deployment_date=filing.get("planned_deployment_date"),
        verified_at=now,
        rule_profile_id=profile.id,
        run=run,
        trigger=trigger,
    )
