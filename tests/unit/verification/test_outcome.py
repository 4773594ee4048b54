"""verify_declared_compute: statuses, tolerances, threshold crossing, sentences an officer reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ChipCatalogue,
    ComputeDeclaration,
    EstimateMethod,
    Tier,
    VerificationStatus,
    verify_declared_compute,
)

pytestmark = pytest.mark.unit


def declaration(**overrides: Any) -> ComputeDeclaration:
    fields: dict[str, Any] = {"developer": "Acme AI", "model_name": "acme-1", "declared_training_flop": 2e24}
    fields.update(overrides)
    return ComputeDeclaration(**fields)


def test_understatement_beyond_tolerance_is_discrepancy(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(declaration(parameters=7e10, training_tokens=1.4e13), [], profile, catalogue)
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.deciding_method is EstimateMethod.ARCHITECTURE
    assert outcome.tolerance_factor == 2.0
    assert outcome.comparisons[0].ratio_to_declared == pytest.approx(2.94, rel=1e-3)
    assert outcome.summary == (
        "Declared 2e24 FLOP; the architecture estimate 6 x 7e10 params x 1.4e13 tokens = 5.9e24 FLOP "
        "exceeds it by 2.9x, beyond the 2x tolerance."
    )
    assert outcome.rule_profile_id == "baseline-2026-01"
    assert outcome.threshold_at_stake == ("reportable", 1e25)


def test_discrepancy_that_also_crosses_threshold(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(declaration(parameters=1e11, training_tokens=2e13), [], profile, catalogue)
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.summary.endswith(
        "exceeds it by 6x, beyond the 2x tolerance, and crosses the 1e25 reportable threshold."
    )
    assert outcome.declared_tier.tier is Tier.BELOW
    assert outcome.estimated_tier.tier is Tier.REPORTABLE
    assert outcome.estimated_tier.decided_by == "architecture estimate"


def test_threshold_crossing_within_tolerance_is_discrepancy(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    # 6 x 7e10 x 3e13 = 1.26e25: within 2x of 8e24 but over 1e25, which the declaration is not.
    outcome = verify_declared_compute(
        declaration(declared_training_flop=8e24, parameters=7e10, training_tokens=3e13),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.comparisons[0].crosses_threshold == ("reportable", 1e25)
    assert not outcome.comparisons[0].exceeds_tolerance
    assert "is within the 2x tolerance but crosses the 1e25 reportable threshold that the declaration does not" in (
        outcome.summary
    )


def test_consistent_declaration(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(declared_training_flop=3.8e25, parameters=4.05e11, training_tokens=1.56e13),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.summary == (
        "Declared 3.8e25 FLOP; the estimates (architecture 3.8e25 FLOP) are within the 2x tolerance; tier reportable."
    )
    assert outcome.estimated_tier.decided_by == "declared"
    assert outcome.notes == ()


def test_no_estimate_is_insufficient_evidence(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(chip_type="Acme X1", chip_count=100, training_hours=10), [], profile, catalogue
    )
    assert outcome.status is VerificationStatus.INSUFFICIENT_EVIDENCE
    assert outcome.deciding_method is None and outcome.tolerance_factor is None
    assert "unknown chip 'Acme X1'" in outcome.summary
    assert outcome.summary.endswith("tier below on the declaration alone.")
    assert len(outcome.estimates) == 3 and not any(e.available for e in outcome.estimates)


def test_overstatement_is_a_note_not_a_discrepancy(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(declared_training_flop=5e24, parameters=1e9, training_tokens=1e12), [], profile, catalogue
    )
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.notes[0].startswith("declared figure is 833x above the architecture estimate")
    assert "not a discrepancy" in outcome.notes[0]


def test_undisclosed_duration_gets_wider_tolerance(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    # 1,000 A100 over 10 days: 312e12 x 240 h x 3600 x 1000 x 0.3 = 8.1e22, 4x the declared 2e22.
    outcome = verify_declared_compute(
        declaration(
            declared_training_flop=2e22,
            chip_type="A100",
            chip_count=1000,
            training_start=date(2026, 1, 1),
            training_end=date(2026, 1, 11),
        ),
        [],
        profile,
        catalogue,
    )
    assert outcome.comparisons[0].tolerance_factor == 5.0 and not outcome.comparisons[0].disclosed
    assert outcome.status is VerificationStatus.CONSISTENT
    with_hours = verify_declared_compute(
        declaration(declared_training_flop=2e22, chip_type="A100", chip_count=1000, training_hours=240),
        [],
        profile,
        catalogue,
    )
    assert with_hours.status is VerificationStatus.DISCREPANCY and with_hours.tolerance_factor == 2.0


def test_hardware_band_compared_at_low_end(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    # 10,000 H100 x 1000 h: 1.07e25 at 0.30, 1.34e25 at the 0.375 midpoint.
    outcome = verify_declared_compute(
        declaration(declared_training_flop=5.5e24, chip_type="H100", chip_count=10_000, training_hours=1000),
        [],
        profile,
        catalogue,
    )
    # Within 2x (1.9x) of the declaration, but its low end still crosses 1e25.
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert not outcome.comparisons[0].exceeds_tolerance
    assert outcome.comparisons[0].crosses_threshold == ("reportable", 1e25)
    assert outcome.comparisons[0].comparison_flop == pytest.approx(10_000 * 989.4e12 * 1000 * 3600 * 0.3)
    assert "= 1.3e25 FLOP (at least 1.1e25 FLOP)" in outcome.summary


def test_implausible_utilisation_is_compared_at_plausible_bound(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    # Declared 0.05 utilisation makes the hardware match a 1.8e24 claim; at 0.15 it is 5.3e24.
    outcome = verify_declared_compute(
        declaration(
            declared_training_flop=1.8e24,
            chip_type="H100",
            chip_count=10_000,
            training_hours=1000,
            declared_utilisation=0.05,
        ),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert "Note: declared utilisation 0.05 is implausible" in outcome.summary
    assert "hardware estimate: implausible utilisation" in outcome.notes


def test_modification_uses_cumulative_compute_for_tier(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(declared_training_flop=6e24, parameters=4e10, training_tokens=2e13, base_model_training_flop=6e24),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.cumulative_declared_flop == pytest.approx(1.2e25)
    assert outcome.declared_tier.tier is Tier.REPORTABLE
    assert outcome.summary.startswith("Declared 6e24 FLOP (cumulative 1.2e25 with the base model);")


def test_modification_estimate_crossing_with_base(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    # Base 8e24 + declared 1e24 = 9e24 (below); base + 6 x 4e10 x 1e13 = 1.04e25 (reportable).
    outcome = verify_declared_compute(
        declaration(declared_training_flop=1e24, parameters=4e10, training_tokens=1e13, base_model_training_flop=8e24),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.comparisons[0].crosses_threshold == ("reportable", 1e25)


def test_designated_model_needs_no_reportable_crossing(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(declared_training_flop=8e24, parameters=7e10, training_tokens=3e13, designated=True),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.CONSISTENT
    assert outcome.declared_tier.tier is Tier.REPORTABLE and outcome.declared_tier.designated


def test_bio_model_threshold_crossing(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(
        declaration(
            declared_training_flop=8e22,
            parameters=1.5e10,
            training_tokens=1.5e12,
            trained_mainly_on_biological_sequences=True,
        ),
        [],
        profile,
        catalogue,
    )
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.comparisons[0].crosses_threshold == ("reportable", 1e23)
    assert "crosses the 1e23 reportable threshold" in outcome.summary


def test_outcome_is_immutable(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(declaration(parameters=7e10, training_tokens=1.4e13), [], profile, catalogue)
    with pytest.raises(AttributeError):
        outcome.status = VerificationStatus.CONSISTENT  # type: ignore[misc]
