"""Tiers from the rule profile's thresholds, cumulative compute, and the one-third modification rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.plumbing.rule_profile import Thresholds
from services.verification.domain.errors import MAX_TRAINING_FLOP, VerificationInputError, check_positive
from services.verification.domain.estimate import format_factor, format_flop


class Tier(StrEnum):
    """Where a model's training compute puts it; decides which evaluations are required."""

    BELOW = "below"
    NEAR_THRESHOLD = "near_threshold"
    REPORTABLE = "reportable"
    FRONTIER = "frontier"

    @property
    def description(self) -> str:
        return {
            Tier.BELOW: "below every threshold",
            Tier.NEAR_THRESHOLD: "within the near-threshold factor below the reportable threshold: watched",
            Tier.REPORTABLE: "above the reportable threshold (or designated by the regulator)",
            Tier.FRONTIER: "above the frontier threshold",
        }[self]

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


@dataclass(frozen=True)
class TierDecision:
    """The tier, the compute figure that decided it and where that figure came from, and why."""

    tier: Tier
    training_flop: float | None
    decided_by: str
    reportable_threshold_flop: float
    frontier_threshold_flop: float
    near_threshold_of: str | None
    designated: bool
    reasons: tuple[str, ...]

    @property
    def threshold_at_stake(self) -> tuple[str, float] | None:
        """The next threshold above this figure (name, FLOP), or None when already frontier."""
        if self.tier is Tier.FRONTIER:
            return None
        if self.tier is Tier.REPORTABLE:
            return ("frontier", self.frontier_threshold_flop)
        return ("reportable", self.reportable_threshold_flop)


def reportable_threshold(thresholds: Thresholds, *, trained_mainly_on_biological_sequences: bool) -> float:
    """The reportable threshold that applies: the lower biological-sequence one for bio models."""
    if trained_mainly_on_biological_sequences:
        return min(thresholds.reportable_flop, thresholds.biological_sequence_flop)
    return thresholds.reportable_flop


def classify_tier(
    *,
    training_flop: float | None,
    thresholds: Thresholds,
    trained_mainly_on_biological_sequences: bool = False,
    designated: bool = False,
    decided_by: str = "declared",
) -> TierDecision:
    """Tier of one compute figure: thresholds are exceeded strictly ("above 1e25")."""
    if training_flop is not None:
        check_positive("training_flop", training_flop, maximum=MAX_TRAINING_FLOP)
    reportable = reportable_threshold(
        thresholds, trained_mainly_on_biological_sequences=trained_mainly_on_biological_sequences
    )
    frontier = thresholds.frontier_flop
    factor = thresholds.near_threshold_factor
    kind = "biological-sequence reportable" if reportable < thresholds.reportable_flop else "reportable"
    reasons: list[str] = []
    near: str | None = None
    flop = training_flop or 0.0
    shown = f"{decided_by} {format_flop(flop)} FLOP" if training_flop else f"{decided_by}: no compute figure"
    if flop > frontier:
        tier = Tier.FRONTIER
        reasons.append(f"{shown} is above the {format_flop(frontier)} frontier threshold")
    elif flop > reportable:
        tier = Tier.REPORTABLE
        reasons.append(f"{shown} is above the {format_flop(reportable)} {kind} threshold")
        if flop * factor > frontier:
            near = "frontier"
            reasons.append(f"within {format_factor(factor)} below the frontier threshold: watched")
    elif flop * factor > reportable:
        tier = Tier.NEAR_THRESHOLD
        near = kind
        reasons.append(
            f"{shown} is within {format_factor(factor)} below the {format_flop(reportable)} {kind} threshold"
        )
    else:
        tier = Tier.BELOW
        reasons.append(f"{shown} is below the {format_flop(reportable)} {kind} threshold")
    if designated and tier.rank < Tier.REPORTABLE.rank:
        tier = Tier.REPORTABLE
        reasons.append("designated by the regulator: at least reportable regardless of compute")
    elif designated:
        reasons.append("also designated by the regulator")
    return TierDecision(
        tier=tier,
        training_flop=training_flop,
        decided_by=decided_by,
        reportable_threshold_flop=reportable,
        frontier_threshold_flop=frontier,
        near_threshold_of=near,
        designated=designated,
        reasons=tuple(reasons),
    )


def classify_tier_from_figures(
    figures: Sequence[tuple[str, float]],
    *,
    thresholds: Thresholds,
    trained_mainly_on_biological_sequences: bool = False,
    designated: bool = False,
) -> TierDecision:
    """Tier on the largest of several figures (declared, credible estimates); says which one decided."""
    if not figures:
        return classify_tier(
            training_flop=None,
            thresholds=thresholds,
            trained_mainly_on_biological_sequences=trained_mainly_on_biological_sequences,
            designated=designated,
            decided_by="no figure",
        )
    label, flop = max(figures, key=lambda item: item[1])
    return classify_tier(
        training_flop=flop,
        thresholds=thresholds,
        trained_mainly_on_biological_sequences=trained_mainly_on_biological_sequences,
        designated=designated,
        decided_by=label,
    )


def cumulative_training_flop(*, base_model_training_flop: float, modification_flops: Iterable[float]) -> float:
    """Everything counts: the base model's compute plus every modification (fine-tune, RL, ...)."""
    check_positive("base_model_training_flop", base_model_training_flop, maximum=MAX_TRAINING_FLOP)
    total = base_model_training_flop
    for index, flop in enumerate(modification_flops):
        check_positive(f"modification_flops[{index}]", flop, maximum=MAX_TRAINING_FLOP)
        total += flop
    return total


class ModificationKind(StrEnum):
    """What a modification of a registered model makes, under the one-third rule."""

    AMENDMENT = "amendment"
    NEW_MODEL = "new_model"

    @property
    def description(self) -> str:
        return {
            ModificationKind.AMENDMENT: "an amendment of the base model's record",
            ModificationKind.NEW_MODEL: "a new model with its own record and lineage to the base",
        }[self]


@dataclass(frozen=True)
class ModificationDecision:
    """The one-third rule's answer, with the fraction that decided it."""

    kind: ModificationKind
    fraction_of_base: float
    cumulative_training_flop: float
    reason: str


def classify_modification(
    *,
    base_model_training_flop: float,
    modification_training_flop: float,
    new_model_modification_fraction: float,
) -> ModificationDecision:
    """A modification using more than the profile's fraction (one third) of the base model's compute is
    a new model; otherwise an amendment. Intake calls this when a modification is filed."""
    check_positive("base_model_training_flop", base_model_training_flop, maximum=MAX_TRAINING_FLOP)
    check_positive("modification_training_flop", modification_training_flop, maximum=MAX_TRAINING_FLOP)
    if not 0 < new_model_modification_fraction < 1:
        raise VerificationInputError(
            "new_model_modification_fraction",
            f"must be between 0 and 1, got {new_model_modification_fraction}",
        )
    fraction = modification_training_flop / base_model_training_flop
    # Relative slack so that exactly one third (1e25 / 3 of 1e25) is not "more than" by float rounding.
    is_new = fraction > new_model_modification_fraction * (1 + 1e-9)
    kind = ModificationKind.NEW_MODEL if is_new else ModificationKind.AMENDMENT
    comparison = "more than" if kind is ModificationKind.NEW_MODEL else "at most"
    reason = (
        f"modification {format_flop(modification_training_flop)} FLOP is {fraction:.1%} of the base model's "
        f"{format_flop(base_model_training_flop)} FLOP, {comparison} {new_model_modification_fraction:.1%}: "
        f"{kind.description}"
    )
    return ModificationDecision(
        kind=kind,
        fraction_of_base=fraction,
        cumulative_training_flop=base_model_training_flop + modification_training_flop,
        reason=reason,
    )
