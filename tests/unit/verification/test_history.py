"""Amendments against the record of earlier versions, training notices, and attestations that name a model."""

from __future__ import annotations

from datetime import date

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ChipCatalogue,
    ComputeAttestation,
    ComputeDeclaration,
    EstimateMethod,
    PriorCompute,
    Tier,
    VerificationInputError,
    VerificationStatus,
    estimate_from_record,
    match_attestation,
    planned_compute_note,
    verify_declared_compute,
)

pytestmark = pytest.mark.unit


def fine_tune(*, own: float = 1e24, cumulative: float = 9e24, **extra: object) -> ComputeDeclaration:
    """A fine-tune declaring its own compute and the model's cumulative compute (base = cumulative - own)."""
    return ComputeDeclaration(
        developer="org-acme",
        model_name="acme-2",
        declared_training_flop=own,
        base_model_training_flop=cumulative - own,
        **extra,  # type: ignore[arg-type]
    )


def test_an_honest_amendment_is_consistent_with_the_record(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    prior = PriorCompute(version=1, declared_cumulative_flop=8e24, verified_flop=8e24, verified_by="declared")
    declaration = fine_tune(own=1e24, cumulative=9e24, parameters=70e9, training_tokens=1e24 / (6 * 70e9))
    record = estimate_from_record(declaration, prior, modification_trained=True)
    assert record.cumulative and record.value_flop == pytest.approx(9e24)
    outcome = verify_declared_compute(declaration, (), profile, catalogue, extra_estimates=(record,))
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.declared_tier.tier is Tier.NEAR_THRESHOLD
    assert {c.method for c in outcome.comparisons} == {EstimateMethod.ARCHITECTURE, EstimateMethod.RECORD}


def test_a_cumulative_that_drops_earlier_compute_below_the_threshold_is_a_discrepancy(
    profile: RuleProfile, catalogue: ChipCatalogue
) -> None:
    # Version 1 declared 1.2e25; the amendment claims the model now totals 8e24 (own 1e24): below 1e25.
    prior = PriorCompute(version=1, declared_cumulative_flop=1.2e25)
    declaration = fine_tune(own=1e24, cumulative=8e24)
    record = estimate_from_record(declaration, prior, modification_trained=True)
    outcome = verify_declared_compute(declaration, (), profile, catalogue, extra_estimates=(record,))
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.deciding_method is EstimateMethod.RECORD
    assert outcome.estimated_tier.tier is Tier.REPORTABLE
    assert "crosses the 1e25 reportable threshold" in outcome.summary
    assert "version 1 on record 1.2e25" in outcome.summary


def test_a_verified_understatement_of_the_base_carries_into_the_amendment(
    profile: RuleProfile, catalogue: ChipCatalogue
) -> None:
    prior = PriorCompute(version=1, declared_cumulative_flop=6e24, verified_flop=6e25, verified_by="architecture")
    declaration = fine_tune(own=1e24, cumulative=7e24)
    record = estimate_from_record(declaration, prior, modification_trained=True)
    assert record.value_flop == pytest.approx(6.1e25)
    assert "was verified at 6e25 FLOP (architecture)" in record.reasons[1]
    outcome = verify_declared_compute(declaration, (), profile, catalogue, extra_estimates=(record,))
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert "exceeds the cumulative by 8.7x" in outcome.summary


def test_an_amendment_without_training_checks_only_the_cumulative(
    profile: RuleProfile, catalogue: ChipCatalogue
) -> None:
    prior = PriorCompute(version=2, declared_cumulative_flop=3e25)
    declaration = ComputeDeclaration(developer="org-acme", model_name="acme-2", declared_training_flop=3e25)
    record = estimate_from_record(declaration, prior, modification_trained=False)
    assert record.value_flop == 3e25 and "no training in this amendment" in record.formula
    outcome = verify_declared_compute(declaration, (), profile, catalogue, extra_estimates=(record,))
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.estimated_tier.tier is Tier.REPORTABLE


def test_no_earlier_version_on_record_gives_no_record_estimate() -> None:
    record = estimate_from_record(fine_tune(), None, modification_trained=True)
    assert not record.available
    assert record.reasons == ("no earlier version of this model on record",)


def test_a_prior_record_with_impossible_figures_is_refused() -> None:
    with pytest.raises(VerificationInputError, match="declared_cumulative_flop"):
        PriorCompute(version=1, declared_cumulative_flop=-1.0)


def test_a_declaration_far_below_its_training_notice_gets_a_note(
    profile: RuleProfile, catalogue: ChipCatalogue
) -> None:
    declaration = ComputeDeclaration(developer="org", model_name="m", declared_training_flop=1e24)
    note = planned_compute_note(declaration, notice_id="TN-1", planned_training_flop=5e25, tolerance_factor=2.0)
    assert note is not None and "training notice TN-1 planned 5e25 FLOP, 50x the declared 1e24 FLOP" in note
    assert (
        planned_compute_note(declaration, notice_id="TN-1", planned_training_flop=1.5e24, tolerance_factor=2.0) is None
    )
    outcome = verify_declared_compute(declaration, (), profile, catalogue, context_notes=(note,))
    assert note in outcome.notes and outcome.summary.endswith(f"Note: {note}.")


def _attestation(**overrides: object) -> ComputeAttestation:
    fields: dict[str, object] = {
        "attestation_id": "att-9",
        "provider": "cloud",
        "customer": "org-acme",
        "chip_type": "H100 SXM5",
        "chip_hours": 1e6,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 2, 1),
    }
    fields.update(overrides)
    return ComputeAttestation(**fields)  # type: ignore[arg-type]


def test_an_attestation_naming_a_model_matches_it_even_without_a_declared_period() -> None:
    declaration = ComputeDeclaration(
        developer="org-acme", model_name="m", declared_training_flop=1e25, registry_id="FMR-1"
    )
    assert match_attestation(declaration, _attestation(registry_id="FMR-1")).matched
    other = match_attestation(declaration, _attestation(registry_id="FMR-2"))
    assert not other.matched and "names model FMR-2, not FMR-1" in other.reason
    assert not match_attestation(declaration, _attestation()).matched  # unnamed and no period: no basis
