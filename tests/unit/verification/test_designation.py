"""The regulator's designation decisions: what each one does to the model, and the sentence a run carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ChipCatalogue,
    ComputeDeclaration,
    DesignationDecision,
    DesignationEffect,
    Tier,
    designation_effect,
    designation_note,
    verify_declared_compute,
)

pytestmark = pytest.mark.unit
DAY = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def decision(
    designation_id: str = "DES-2026-000001", *, designated: bool = True, at: datetime = DAY
) -> DesignationDecision:
    return DesignationDecision(
        designation_id=designation_id,
        designated=designated,
        reason="Systemic reach across the EU market.",
        decided_by="officer-7",
        decided_at=at,
    )


@pytest.mark.parametrize(
    ("designated", "designated_now", "effect"),
    [
        (True, False, DesignationEffect.APPLIED),
        (False, True, DesignationEffect.APPLIED),
        (True, True, DesignationEffect.UNCHANGED),  # e.g. a registration that already said so
        (False, False, DesignationEffect.UNCHANGED),
    ],
)
def test_a_first_decision_applies_only_when_it_changes_the_model(
    designated: bool, designated_now: bool, effect: DesignationEffect
) -> None:
    assert designation_effect(decision(designated=designated), designated_now=designated_now, in_force=None) is effect


def test_a_decision_after_the_one_in_force_applies_when_it_changes_the_state() -> None:
    in_force = decision("DES-1", designated=True)
    revoked = decision("DES-2", designated=False, at=DAY + timedelta(days=30))
    assert designation_effect(revoked, designated_now=True, in_force=in_force) is DesignationEffect.APPLIED
    again = decision("DES-3", designated=True, at=DAY + timedelta(days=1))
    assert designation_effect(again, designated_now=True, in_force=in_force) is DesignationEffect.UNCHANGED
    same_moment = decision("DES-4", designated=False, at=DAY)
    assert designation_effect(same_moment, designated_now=True, in_force=in_force) is DesignationEffect.APPLIED


def test_a_decision_older_than_the_one_in_force_has_no_effect() -> None:
    in_force = decision("DES-2", designated=False, at=DAY + timedelta(days=30))
    late = decision("DES-1", designated=True, at=DAY)
    assert designation_effect(late, designated_now=False, in_force=in_force) is DesignationEffect.OUTDATED


def test_the_note_names_the_decision_its_grounds_and_what_it_means_for_the_tier() -> None:
    assert designation_note(decision()) == (
        "designated by the regulator (DES-2026-000001 by officer-7 on 2026-05-01: Systemic reach across the EU "
        "market): at least reportable regardless of compute"
    )
    assert designation_note(decision("DES-2026-000002", designated=False)) == (
        "designation revoked by the regulator (DES-2026-000002 by officer-7 on 2026-05-01: Systemic reach across "
        "the EU market): the tier follows the compute"
    )

    unexplained = DesignationDecision(
        designation_id="DES-3", designated=True, reason=" ", decided_by="officer-7", decided_at=DAY
    )
    assert designation_note(unexplained).startswith("designated by the regulator (DES-3 by officer-7 on 2026-05-01):")


def test_a_designated_model_below_the_thresholds_is_reportable_and_says_why(
    profile: RuleProfile, catalogue: ChipCatalogue
) -> None:
    below = {"developer": "org-1", "model_name": "small", "declared_training_flop": 6.3e23}
    inputs = {"parameters": 7e9, "training_tokens": 1.5e13}
    note = designation_note(decision())
    plain = verify_declared_compute(ComputeDeclaration(**below, **inputs), [], profile, catalogue)
    designated = verify_declared_compute(
        ComputeDeclaration(**below, **inputs, designated=True), [], profile, catalogue, context_notes=[note]
    )
    assert plain.estimated_tier.tier is Tier.BELOW
    assert designated.estimated_tier.tier is Tier.REPORTABLE and designated.declared_tier.tier is Tier.REPORTABLE
    assert designated.status.value == "consistent"
    assert designated.summary.endswith(f"tier reportable. Note: {note}.")
    assert "designated by the regulator: at least reportable regardless of compute" in (
        designated.estimated_tier.reasons
    )
