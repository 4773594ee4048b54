"""Tiers, the biological-sequence rule, cumulative compute, the one-third rule and designation."""

from __future__ import annotations

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ModificationKind,
    Tier,
    VerificationInputError,
    classify_modification,
    classify_tier,
    classify_tier_from_figures,
    cumulative_training_flop,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("flop", "tier", "near"),
    [
        (1e20, Tier.BELOW, None),
        (3.4e24, Tier.NEAR_THRESHOLD, "reportable"),  # within 3x below 1e25
        (3.3e24, Tier.BELOW, None),  # 3.3e24 x 3 < 1e25
        (1e25 / 3, Tier.BELOW, None),  # exactly 3x below: not "within"
        (1e25, Tier.NEAR_THRESHOLD, "reportable"),  # "above 1e25" is strict
        (1.01e25, Tier.REPORTABLE, None),
        (4e25, Tier.REPORTABLE, "frontier"),  # within 3x below 1e26: watched
        (1e26, Tier.REPORTABLE, "frontier"),
        (2e26, Tier.FRONTIER, None),
    ],
)
def test_tiers_from_profile(profile: RuleProfile, flop: float, tier: Tier, near: str | None) -> None:
    decision = classify_tier(training_flop=flop, thresholds=profile.thresholds)
    assert decision.tier is tier
    assert decision.near_threshold_of == near
    assert decision.decided_by == "declared"


def test_threshold_at_stake(profile: RuleProfile) -> None:
    assert classify_tier(training_flop=5e24, thresholds=profile.thresholds).threshold_at_stake == (
        "reportable",
        1e25,
    )
    assert classify_tier(training_flop=5e25, thresholds=profile.thresholds).threshold_at_stake == (
        "frontier",
        1e26,
    )
    assert classify_tier(training_flop=5e26, thresholds=profile.thresholds).threshold_at_stake is None


def test_biological_sequence_rule(profile: RuleProfile) -> None:
    bio = classify_tier(training_flop=2e23, thresholds=profile.thresholds, trained_mainly_on_biological_sequences=True)
    assert bio.tier is Tier.REPORTABLE and bio.reportable_threshold_flop == 1e23
    assert "biological-sequence reportable threshold" in bio.reasons[0]
    near = classify_tier(training_flop=5e22, thresholds=profile.thresholds, trained_mainly_on_biological_sequences=True)
    assert near.tier is Tier.NEAR_THRESHOLD
    assert classify_tier(training_flop=2e23, thresholds=profile.thresholds).tier is Tier.BELOW


def test_designation_makes_at_least_reportable(profile: RuleProfile) -> None:
    decision = classify_tier(training_flop=1e21, thresholds=profile.thresholds, designated=True)
    assert decision.tier is Tier.REPORTABLE and decision.designated
    assert "designated by the regulator" in decision.reasons[-1]
    frontier = classify_tier(training_flop=2e26, thresholds=profile.thresholds, designated=True)
    assert frontier.tier is Tier.FRONTIER


def test_tier_on_largest_figure_says_which_decided(profile: RuleProfile) -> None:
    decision = classify_tier_from_figures(
        [("declared", 8e24), ("architecture estimate", 1.5e25), ("hardware estimate", 9e24)],
        thresholds=profile.thresholds,
    )
    assert decision.tier is Tier.REPORTABLE
    assert decision.decided_by == "architecture estimate" and decision.training_flop == 1.5e25


def test_cumulative_compute(profile: RuleProfile) -> None:
    total = cumulative_training_flop(base_model_training_flop=8e24, modification_flops=[1e24, 2e24])
    assert total == pytest.approx(1.1e25)
    assert classify_tier(training_flop=total, thresholds=profile.thresholds).tier is Tier.REPORTABLE
    with pytest.raises(VerificationInputError, match=r"modification_flops\[1\]"):
        cumulative_training_flop(base_model_training_flop=8e24, modification_flops=[1e24, -1.0])


@pytest.mark.parametrize(
    ("modification", "kind"),
    [
        (3e24, ModificationKind.AMENDMENT),
        (1e25 / 3, ModificationKind.AMENDMENT),
        (3.4e24, ModificationKind.NEW_MODEL),
    ],
)
def test_one_third_rule(profile: RuleProfile, modification: float, kind: ModificationKind) -> None:
    decision = classify_modification(
        base_model_training_flop=1e25,
        modification_training_flop=modification,
        new_model_modification_fraction=profile.thresholds.new_model_modification_fraction,
    )
    assert decision.kind is kind
    assert decision.cumulative_training_flop == pytest.approx(1e25 + modification)
    assert kind.description in decision.reason


def test_one_third_rule_rejects_bad_inputs() -> None:
    with pytest.raises(VerificationInputError, match="base_model_training_flop"):
        classify_modification(
            base_model_training_flop=0, modification_training_flop=1e20, new_model_modification_fraction=0.3
        )
    with pytest.raises(VerificationInputError, match="new_model_modification_fraction"):
        classify_modification(
            base_model_training_flop=1e24,
            modification_training_flop=1e20,
            new_model_modification_fraction=1.5,
        )


def test_tier_rejects_absurd_flop(profile: RuleProfile) -> None:
    with pytest.raises(VerificationInputError, match="training_flop"):
        classify_tier(training_flop=1e40, thresholds=profile.thresholds)
