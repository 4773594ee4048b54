"""Attestation matching (either arrival order, non-matches explained) and the estimate it gives."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ChipCatalogue,
    ComputeAttestation,
    ComputeDeclaration,
    VerificationInputError,
    VerificationStatus,
    estimate_from_attestations,
    match_attestations,
    verify_declared_compute,
)

pytestmark = pytest.mark.unit


def declaration(**overrides: Any) -> ComputeDeclaration:
    fields: dict[str, Any] = {
        "developer": "Acme AI, Inc.",
        "model_name": "acme-2",
        "declared_training_flop": 3e25,
        "training_start": date(2026, 1, 10),
        "training_end": date(2026, 3, 10),
        "cluster_id": "eu-west-7",
    }
    fields.update(overrides)
    return ComputeDeclaration(**fields)


def attestation(**overrides: Any) -> ComputeAttestation:
    fields: dict[str, Any] = {
        "attestation_id": "att-1",
        "provider": "CloudCo",
        "customer": "acme ai inc",
        "chip_type": "NVIDIA H100 SXM5 80GB",
        "chip_hours": 2.4e7,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 3, 1),
        "cluster_id": "eu-west-7",
    }
    fields.update(overrides)
    return ComputeAttestation(**fields)


def test_matching_attestation_gives_band_estimate(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_attestations(declaration(), [attestation()], rules=profile.verification, catalogue=catalogue)
    raw = 2.4e7 * 3600 * 989.4e12
    assert est.low_flop == pytest.approx(raw * 0.30) and est.high_flop == pytest.approx(raw * 0.45)
    assert est.comparison_flop == est.low_flop
    assert est.inputs["attestation_ids"] == "att-1"


def test_attested_utilisation_is_used(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_attestations(
        declaration(), [attestation(utilisation=0.4)], rules=profile.verification, catalogue=catalogue
    )
    assert est.value_flop == pytest.approx(2.4e7 * 3600 * 989.4e12 * 0.4)
    assert "0.4 attested utilisation" in est.reasons[1]


def test_attestation_before_or_after_registration_same_outcome(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    early = attestation(attestation_id="att-early", period_start=date(2025, 12, 1), period_end=date(2026, 1, 31))
    late = attestation(attestation_id="att-late", period_start=date(2026, 2, 1), period_end=date(2026, 3, 31))
    a = verify_declared_compute(declaration(), [late, early], profile, catalogue)
    b = verify_declared_compute(declaration(), [early, late], profile, catalogue)
    assert a.status is b.status
    assert a.estimates[2].value_flop == pytest.approx(b.estimates[2].value_flop or 0)
    assert [m.attestation_id for m in a.attestation_matches] == ["att-early", "att-late"]


def test_duplicate_attestation_counts_once(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    once = estimate_from_attestations(declaration(), [attestation()], rules=profile.verification, catalogue=catalogue)
    twice = estimate_from_attestations(
        declaration(), [attestation(), attestation()], rules=profile.verification, catalogue=catalogue
    )
    assert once.value_flop == twice.value_flop


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"customer": "Other Labs"}, "customer 'Other Labs' is not developer 'Acme AI, Inc.'"),
        ({"period_start": date(2025, 1, 1), "period_end": date(2025, 6, 1)}, "does not overlap"),
        ({"cluster_id": "us-east-1"}, "cluster 'us-east-1' is not the declared 'eu-west-7'"),
    ],
)
def test_non_matches_are_explained(
    profile: RuleProfile, catalogue: ChipCatalogue, overrides: dict[str, Any], reason: str
) -> None:
    matched, explanations = match_attestations(declaration(), [attestation(**overrides)])
    assert matched == () and reason in explanations[0].reason
    est = estimate_from_attestations(
        declaration(), [attestation(**overrides)], rules=profile.verification, catalogue=catalogue
    )
    assert not est.available and est.reasons[0] == "no attestation matches this run"
    assert reason in est.reasons[1]


def test_declaration_without_period_cannot_match() -> None:
    _, explanations = match_attestations(declaration(training_start=None, training_end=None), [attestation()])
    assert explanations[0].reason == "the declaration has no training period to match against"


def test_cluster_named_on_one_side_only_still_matches() -> None:
    matched, explanations = match_attestations(declaration(cluster_id=None), [attestation()])
    assert len(matched) == 1 and "cluster not named on both sides" in explanations[0].reason


def test_attestation_with_unknown_chip_is_not_used(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_attestations(
        declaration(),
        [attestation(chip_type="Mystery Chip")],
        rules=profile.verification,
        catalogue=catalogue,
    )
    assert not est.available and "unknown chip 'Mystery Chip'" in est.reasons[0]


def test_attestation_catches_understatement(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    outcome = verify_declared_compute(declaration(declared_training_flop=5e24), [attestation()], profile, catalogue)
    assert outcome.status is VerificationStatus.DISCREPANCY
    assert outcome.deciding_method is not None and outcome.deciding_method.value == "attestation"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"chip_hours": 0}, "chip_hours"),
        ({"chip_hours": float("nan")}, "chip_hours"),
        ({"chip_hours": 1e13}, "chip_hours"),
        ({"period_end": date(2025, 1, 1)}, "period_end"),
        ({"customer": ""}, "customer"),
        ({"utilisation": 2.0}, "utilisation"),
    ],
)
def test_bad_attestations_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(VerificationInputError) as excinfo:
        attestation(**overrides)
    assert excinfo.value.field == field
