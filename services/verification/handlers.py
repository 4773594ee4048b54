"""Verification's event handlers: filings and attestations arrive, declared compute is judged, outcomes published.

Every verification run goes through `verify_version`: it rebuilds the declaration from the store, gathers what
else is known (the organisation's attestations, the model's training notices, the previous version's
record), runs the pure domain and writes the outcome with its event in the handler's transaction.
Triggers: `filing` (a registration), `amendment` (a new version), `attestation` (evidence for a version
already verified: a new run of that version), `designation` (the regulator designated the model or revoked its
designation: a new run of its latest version). The regulator's decision in force belongs to the model: every run of
every version after it applies it, whatever the filing said.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import Envelope, RegistrationSubmitted, new_envelope
from registry_contracts.events.intake import (
    AmendmentSubmitted,
    ComputeAttested,
    ModelDesignationChanged,
    TrainingNoticeFiled,
)
from services.plumbing import audit
from services.plumbing.inbox import Subscription
from services.plumbing.rule_profile import RuleProfile
from services.plumbing.service import ServiceState

from . import store
from .domain import (
    ChipCatalogue,
    ComputeAttestation,
    ComputeEstimate,
    DesignationDecision,
    DesignationEffect,
    VerificationInputError,
    designation_effect,
    designation_note,
    estimate_from_record,
    match_attestation,
    planned_compute_note,
    verify_declared_compute,
)
from .filings import (
    AMENDMENT,
    REGISTRATION,
    attestation_for_domain,
    outcome_details,
    outcome_event,
    prepare,
    prior_compute,
    registration_figures,
    unverifiable_event,
)

CATALOGUE_KEY = "chip_catalogue"
DESIGNATION = "designation"
log = logging.getLogger(__name__)


async def _usable_attestations(
    conn: asyncpg.Connection, organisation_id: str
) -> tuple[list[ComputeAttestation], list[str]]:
    """The organisation's attestations in domain form, and a note for each one that cannot be used."""
    usable: list[ComputeAttestation] = []
    notes: list[str] = []
    for event in await store.attestations_of_organisation(conn, organisation_id):
        try:
            usable.append(attestation_for_domain(event))
        except VerificationInputError as error:
            notes.append(f"attestation {event.attestation_id} is unusable: {error}")
    return usable, notes


async def verify_version(
    conn: asyncpg.Connection,
    stored: store.StoredDeclaration,
    *,
    trigger: str,
    incoming: Envelope[Any],
    profile: RuleProfile,
    catalogue: ChipCatalogue,
) -> None:
    """One verification run of one stored filing version, recorded and published in this transaction."""
    now = datetime.now(UTC)
    run = await store.next_run(conn, stored.registry_id, stored.version)
    designation = await store.designation_in_force(conn, stored.registry_id)
    if designation is not None:  # the regulator's decision overrides what the filing (or the version before) said
        stored = dataclasses.replace(stored, designated=designation.designated)
    said: tuple[str, ...] = ()
    if designation is not None and (designation.designated or trigger == DESIGNATION):
        said = (designation_note(designation),)
    details: dict[str, Any] = {}
    verified_flop: float | None = None
    used: list[str] = []
    try:
        prepared = prepare(stored)
        declaration = prepared.declaration
        attestations, notes = await _usable_attestations(conn, stored.organisation_id)
        notes += prepared.notes
        extra: tuple[ComputeEstimate, ...] = ()
        if stored.kind == AMENDMENT:
            previous = await store.previous_declaration(conn, stored.registry_id, stored.version)
            last = await store.latest_run(conn, previous.registry_id, previous.version) if previous else None
            prior = prior_compute(previous, last.verified_flop if last else None, last.verified_by if last else None)
            extra = (estimate_from_record(declaration, prior, modification_trained=prepared.modification_trained),)
        else:
            for notice in await store.training_notices_of_model(conn, stored.registry_id):
                note = planned_compute_note(
                    declaration,
                    notice_id=notice.notice_id,
                    planned_training_flop=notice.planned_training_flop,
                    tolerance_factor=profile.verification.tolerance_factor,
                )
                notes += [note] if note else []
        notes += said
        outcome = verify_declared_compute(
            declaration, attestations, profile, catalogue, extra_estimates=extra, context_notes=notes
        )
        event = outcome_event(prepared.context, outcome, run=run, trigger=trigger, now=now)
        details = outcome_details(outcome)
        verified_flop = outcome.estimated_tier.training_flop
        used = [m.attestation_id for m in outcome.attestation_matches if m.matched]
    except VerificationInputError as error:
        event = unverifiable_event(stored, error, profile, run=run, trigger=trigger, now=now, notes=said)
        details = {"reasons": [str(error)], "notes": list(said), "verified_by": "declared"}
        verified_flop = stored.declared_cumulative_flop
    out = new_envelope(
        event, subject=stored.registry_id, correlation_id=incoming.correlationid, causation_id=str(incoming.id)
    )
    await store.save_outcome(conn, out, details, verified_flop=verified_flop, attestations_used=used)
    detail: dict[str, Any] = {
        "version": event.version,
        "run": run,
        "trigger": trigger,
        "status": event.status,
        "verified_tier": event.verified_tier,
        "event_id": out.id,
    }
    if designation is not None and trigger == DESIGNATION:
        detail["designation_id"] = designation.designation_id
    await audit.record(
        conn, actor="system", action="decision.compute_verified", subject=stored.registry_id, detail=detail
    )


def make_registration_handler(profile: RuleProfile, catalogue: ChipCatalogue) -> Any:
    async def on_registration_submitted(conn: asyncpg.Connection, envelope: Envelope[RegistrationSubmitted]) -> None:
        filing = envelope.data
        organisation_id = filing.developer.organisation_id
        await store.lock_organisation(conn, organisation_id)
        await store.lock_model(conn, filing.registry_id)
        cumulative, designated, biological = registration_figures(filing)
        in_force = await store.designation_in_force(conn, filing.registry_id)  # decided before it arrived
        designated = in_force.designated if in_force is not None else designated
        stored = store.StoredDeclaration(
            registry_id=filing.registry_id,
            version=filing.version,
            organisation_id=organisation_id,
            kind=REGISTRATION,
            filing=filing.model_dump(mode="json"),
            declared_cumulative_flop=cumulative,
            designated=designated,
            biological=biological,
        )
        json_text = filing.model_dump_json()
        if not await store.save_declaration(conn, stored, filing_json=json_text, correlation_id=envelope.correlationid):
            return  # this version was already verified (a second event for the same filing)
        await verify_version(conn, stored, trigger="filing", incoming=envelope, profile=profile, catalogue=catalogue)

    return on_registration_submitted


def make_amendment_handler(profile: RuleProfile, catalogue: ChipCatalogue) -> Any:
    async def on_amendment_submitted(conn: asyncpg.Connection, envelope: Envelope[AmendmentSubmitted]) -> None:
        filing = envelope.data
        organisation_id = filing.developer.organisation_id
        await store.lock_organisation(conn, organisation_id)
        await store.lock_model(conn, filing.registry_id)
        previous = await store.previous_declaration(conn, filing.registry_id, filing.version)
        in_force = await store.designation_in_force(conn, filing.registry_id)
        # A designation stays with the model: the regulator's decision in force, else the version before's.
        designated = in_force.designated if in_force is not None else bool(previous and previous.designated)
        modification = filing.modification_compute
        biological = bool(previous and previous.biological) or bool(
            modification and modification.trained_mainly_on_biological_sequences
        )
        stored = store.StoredDeclaration(
            registry_id=filing.registry_id,
            version=filing.version,
            organisation_id=organisation_id,
            kind=AMENDMENT,
            filing=filing.model_dump(mode="json"),
            declared_cumulative_flop=filing.cumulative_training_flop,
            designated=designated,
            biological=biological,
        )
        json_text = filing.model_dump_json()
        if not await store.save_declaration(conn, stored, filing_json=json_text, correlation_id=envelope.correlationid):
            return
        await verify_version(conn, stored, trigger="amendment", incoming=envelope, profile=profile, catalogue=catalogue)

    return on_amendment_submitted


def make_attestation_handler(profile: RuleProfile, catalogue: ChipCatalogue) -> Any:
    async def on_compute_attested(conn: asyncpg.Connection, envelope: Envelope[ComputeAttested]) -> None:
        attested = envelope.data
        organisation_id = attested.customer.organisation_id
        await store.lock_organisation(conn, organisation_id)
        if not await store.save_attestation(conn, attested, event_id=envelope.id):
            return  # the provider re-sent a known attestation: it is already counted
        try:
            attestation = attestation_for_domain(attested)
        except VerificationInputError as error:
            log.warning("attestation %s kept but unusable: %s", attested.attestation_id, error)
            return  # kept (nothing lost), shown on GET /v1/attestations, never matched
        candidates = await store.declarations_of_organisation(conn, organisation_id, registry_id=attested.registry_id)
        for stored in candidates:
            try:
                declaration = prepare(stored).declaration
            except VerificationInputError:
                continue  # its verification already said why it cannot be checked
            if match_attestation(declaration, attestation).matched:
                await verify_version(
                    conn, stored, trigger="attestation", incoming=envelope, profile=profile, catalogue=catalogue
                )

    return on_compute_attested


def make_designation_handler(profile: RuleProfile, catalogue: ChipCatalogue) -> Any:
    async def on_model_designation_changed(
        conn: asyncpg.Connection, envelope: Envelope[ModelDesignationChanged]
    ) -> None:
        change = envelope.data
        registry_id = change.registry_id
        locked: str | None = None
        latest = await store.latest_declaration(conn, registry_id)
        if latest is not None:  # the organisation first, as filings and attestations take it
            await store.lock_organisation(conn, latest.organisation_id)
            locked = latest.organisation_id
        await store.lock_model(conn, registry_id)
        latest = await store.latest_declaration(conn, registry_id)  # a filing committed meanwhile is seen now
        if latest is not None and latest.organisation_id != locked:
            await store.lock_organisation(conn, latest.organisation_id)
        in_force = await store.designation_in_force(conn, registry_id)
        designated_now = in_force.designated if in_force is not None else bool(latest and latest.designated)
        decision = DesignationDecision(
            designation_id=change.designation_id,
            designated=change.designated,
            reason=change.reason,
            decided_by=change.decided_by,
            decided_at=change.decided_at,
        )
        effect = designation_effect(decision, designated_now=designated_now, in_force=in_force)
        if not await store.save_designation_decision(conn, change, event_id=envelope.id, effect=effect):
            return  # this decision is already known (sent again): it had its effect then
        if effect is DesignationEffect.OUTDATED:
            log.warning("designation %s of %s kept: %s", change.designation_id, registry_id, effect.description)
            return
        if effect is DesignationEffect.APPLIED or in_force is None:
            # In force from now on (a decision confirming what the filing said becomes the regulator's word too);
            # a repeat of the state in force leaves the decision that made it in force.
            await store.put_designation_in_force(conn, registry_id, change.designation_id)
        if effect is not DesignationEffect.APPLIED:
            return  # already in that state: one effect, whichever decision said it first
        if latest is None:
            return  # not registered yet: kept in force, and the registration's verification applies it
        await verify_version(conn, latest, trigger=DESIGNATION, incoming=envelope, profile=profile, catalogue=catalogue)

    return on_model_designation_changed


def make_training_notice_handler() -> Any:
    async def on_training_notice_filed(conn: asyncpg.Connection, envelope: Envelope[TrainingNoticeFiled]) -> None:
        # Kept for the registration that follows: its declared compute is checked against the plan.
        await store.save_training_notice(conn, envelope.data)

    return on_training_notice_filed


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    catalogue: ChipCatalogue = state.extras[CATALOGUE_KEY]
    profile = state.profile
    return {
        RegistrationSubmitted.cloudevents_type(): Subscription(
            RegistrationSubmitted, make_registration_handler(profile, catalogue)
        ),
        AmendmentSubmitted.cloudevents_type(): Subscription(
            AmendmentSubmitted, make_amendment_handler(profile, catalogue)
        ),
        ComputeAttested.cloudevents_type(): Subscription(ComputeAttested, make_attestation_handler(profile, catalogue)),
        TrainingNoticeFiled.cloudevents_type(): Subscription(TrainingNoticeFiled, make_training_notice_handler()),
        ModelDesignationChanged.cloudevents_type(): Subscription(
            ModelDesignationChanged, make_designation_handler(profile, catalogue)
        ),
    }
