"""Intake's small rules: the one-third modification rule, deadlines, tiers, sealing and signed answers."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.intake.domain.deadlines import (
    deployment_deadline,
    incident_deadline,
    registration_deadline,
    training_notice_deadline,
)
from services.intake.domain.modification import ModificationOutcome, classify_modification
from services.intake.domain.registration import implied_tier
from services.intake.domain.standing import sign_answer, standing_answer, verify_answer
from services.intake.keys import RestrictedSealer, SealError, restricted_sealer
from services.plumbing.rule_profile import load_rule_profile

pytestmark = pytest.mark.unit
PROFILE = load_rule_profile()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("modification", "outcome"),
    [
        (None, ModificationOutcome.AMENDMENT),
        (1e24, ModificationOutcome.AMENDMENT),
        (3.3e24, ModificationOutcome.AMENDMENT),
        (3.34e24, ModificationOutcome.NEW_MODEL),
        (2e25, ModificationOutcome.NEW_MODEL),
    ],
)
def test_one_third_of_the_base_compute_makes_a_new_model(
    modification: float | None, outcome: ModificationOutcome
) -> None:
    assert PROFILE.thresholds.new_model_modification_fraction == pytest.approx(1 / 3)
    assert classify_modification(modification_flop=modification, base_flop=1e25, profile=PROFILE) is outcome


def test_training_notice_is_due_14_days_after_crossing() -> None:
    crossed = date(2026, 5, 1)
    assert not training_notice_deadline(crossed, datetime(2026, 5, 15, 23, tzinfo=UTC), PROFILE).late
    assert training_notice_deadline(crossed, datetime(2026, 5, 16, 0, 1, tzinfo=UTC), PROFILE).late
    assert not training_notice_deadline(None, NOW, PROFILE).late


def test_registration_is_due_14_days_before_deployment() -> None:
    assert not registration_deadline(date(2026, 6, 15), NOW, PROFILE).late
    assert registration_deadline(date(2026, 6, 14), NOW, PROFILE).late
    assert not registration_deadline(None, NOW, PROFILE).late
    assert deployment_deadline(NOW, date(2026, 6, 10), PROFILE).late
    assert not deployment_deadline(NOW, date(2026, 6, 20), PROFILE).late


def test_incident_clocks_are_24_hours_with_imminent_risk_else_15_days() -> None:
    discovered = NOW - timedelta(hours=25)
    assert incident_deadline(discovered, True, NOW, PROFILE).late
    assert not incident_deadline(discovered, False, NOW, PROFILE).late
    assert incident_deadline(NOW - timedelta(days=16), False, NOW, PROFILE).late


@pytest.mark.parametrize(
    ("flop", "bio", "tier"),
    [
        (1e24, False, "below"),
        (5e24, False, "near_threshold"),
        (2e25, False, "reportable"),
        (2e26, False, "frontier"),
        (2e23, True, "reportable"),
    ],
)
def test_implied_tier(flop: float, bio: bool, tier: str) -> None:
    assert implied_tier(flop, biological=bio, profile=PROFILE).value == tier


def test_sealed_fields_open_only_with_the_key_and_the_same_filing() -> None:
    sealer = restricted_sealer(base64.b64encode(b"k" * 32).decode())
    sealed = sealer.seal({"narrative": "secret"}, bound_to="INC-2026-000001")
    assert b"secret" not in sealed
    assert sealer.open(sealed, bound_to="INC-2026-000001") == {"narrative": "secret"}
    with pytest.raises(SealError):
        sealer.open(sealed, bound_to="INC-2026-000002")
    with pytest.raises(SealError):
        RestrictedSealer([b"x" * 32]).open(sealed, bound_to="INC-2026-000001")
    rotated = RestrictedSealer([b"n" * 32, b"k" * 32])
    assert rotated.open(sealed, bound_to="INC-2026-000001") == {"narrative": "secret"}
    with pytest.raises(ValueError, match="32 bytes"):
        restricted_sealer(base64.b64encode(b"short").decode())


def test_a_signed_answer_verifies_and_any_change_breaks_it() -> None:
    key = Ed25519PrivateKey.generate()
    answer = standing_answer(
        registry_id="FMR-2026-000001",
        model_name="m",
        developer={"legal_name": "Acme"},
        standing="suspended",
        reasons=["case ENF-1"],
        status=None,
        tier="frontier",
        standing_since=NOW,
        signed_at=NOW,
    )
    signed = sign_answer(answer, key)
    assert verify_answer(signed, key.public_key()) == (True, "valid: FMR-2026-000001 is suspended")
    signed["answer"]["standing"] = "registered_good_standing"
    assert verify_answer(signed, key.public_key())[0] is False
    assert (
        "not with the given key"
        in verify_answer(sign_answer(answer, key), Ed25519PrivateKey.generate().public_key())[1]
    )
