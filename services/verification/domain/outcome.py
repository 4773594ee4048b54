"""The verification outcome of one filing version: declared compute against independent estimates.

Tolerance: an estimate whose core inputs were all declared (or attested) is held to the profile's
`tolerance_factor`; one that had to derive a core input the developer did not state (today: training
duration taken from the period's dates instead of declared hours) is "undisclosed" and held to
`tolerance_factor_undisclosed`. Documented defaults (epochs = 1, the typical utilisation band) do not
make an estimate undisclosed: a band is instead compared at its low end, the reading most favourable
to the developer, so it only flags when even that end exceeds the declaration beyond tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain.attestations import (
    AttestationMatch,
    estimate_from_attestations,
    match_attestations,
)
from services.verification.domain.chips import ChipCatalogue
from services.verification.domain.declaration import ComputeAttestation, ComputeDeclaration
from services.verification.domain.estimate import ComputeEstimate, EstimateMethod, format_factor, format_flop
from services.verification.domain.estimators import estimate_from_architecture, estimate_from_hardware
from services.verification.domain.tiers import Tier, TierDecision, classify_tier, classify_tier_from_figures


class VerificationStatus(StrEnum):
    """What verification concluded about a declaration."""

    CONSISTENT = "consistent"
    DISCREPANCY = "discrepancy"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"

    @property
    def description(self) -> str:
        return {
            VerificationStatus.CONSISTENT: "every estimate is within tolerance and crosses no threshold "
            "the declaration does not",
            VerificationStatus.DISCREPANCY: "an estimate exceeds the declaration beyond tolerance, "
            "or crosses a threshold the declaration does not",
            VerificationStatus.INSUFFICIENT_EVIDENCE: "no independent estimate could be made",
        }[self]


def _threshold_level(tier: Tier) -> int:
    # Near-threshold is a watch flag, not a threshold: it never counts as "crossing".
    return {Tier.FRONTIER: 2, Tier.REPORTABLE: 1}.get(tier, 0)


@dataclass(frozen=True)
class EstimateComparison:
    """One estimate set against the declaration."""

    method: EstimateMethod
    comparison_flop: float
    cumulative_flop: float
    ratio_to_declared: float
    tolerance_factor: float
    disclosed: bool
    exceeds_tolerance: bool
    crosses_threshold: tuple[str, float] | None
    overstated_by: float | None  # declared / highest figure of the estimate, when beyond tolerance

    @property
    def is_discrepancy(self) -> bool:
        return self.exceeds_tolerance or self.crosses_threshold is not None


@dataclass(frozen=True)
class VerificationOutcome:
    """Everything an officer needs to see why a declaration was judged as it was."""

    status: VerificationStatus
    rule_profile_id: str
    model_name: str
    declared_training_flop: float
    cumulative_declared_flop: float
    estimates: tuple[ComputeEstimate, ...]
    comparisons: tuple[EstimateComparison, ...]
    deciding_method: EstimateMethod | None
    tolerance_factor: float | None  # the tolerance applied to the deciding estimate
    threshold_at_stake: tuple[str, float] | None
    declared_tier: TierDecision
    estimated_tier: TierDecision  # on max(declared, credible estimates); says which figure decided
    attestation_matches: tuple[AttestationMatch, ...]
    summary: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]


def compare_estimate(
    estimate: ComputeEstimate,
    declaration: ComputeDeclaration,
    profile: RuleProfile,
    declared_tier: TierDecision,
) -> EstimateComparison:
    """Set one available estimate against the declaration under the profile's tolerances."""
    assert estimate.comparison_flop is not None
    rules = profile.verification
    tolerance = rules.tolerance_factor if estimate.disclosed else rules.tolerance_factor_undisclosed
    if estimate.cumulative:  # a whole-model figure is set against the declared cumulative compute
        declared = declaration.cumulative_declared_flop
        cumulative = estimate.comparison_flop
    else:
        declared = declaration.declared_training_flop
        cumulative = estimate.comparison_flop + (declaration.base_model_training_flop or 0.0)
    ratio = estimate.comparison_flop / declared
    estimate_tier = classify_tier(
        training_flop=cumulative,
        thresholds=profile.thresholds,
        trained_mainly_on_biological_sequences=declaration.trained_mainly_on_biological_sequences,
        decided_by=estimate.label,
    )
    crossed = None
    if _threshold_level(estimate_tier.tier) > _threshold_level(declared_tier.tier):
        crossed = (
            ("frontier", estimate_tier.frontier_threshold_flop)
            if estimate_tier.tier is Tier.FRONTIER
            else ("reportable", estimate_tier.reportable_threshold_flop)
        )
    highest = estimate.high_flop or estimate.comparison_flop
    overstated = declared / highest if declared > highest * tolerance else None
    return EstimateComparison(
        method=estimate.method,
        comparison_flop=estimate.comparison_flop,
        cumulative_flop=cumulative,
        ratio_to_declared=ratio,
        tolerance_factor=tolerance,
        disclosed=estimate.disclosed,
        exceeds_tolerance=ratio > tolerance,
        crosses_threshold=crossed,
        overstated_by=overstated,
    )


def _estimate_phrase(estimate: ComputeEstimate) -> str:
    assert estimate.value_flop is not None and estimate.comparison_flop is not None
    text = f"the {estimate.label} {estimate.formula} = {format_flop(estimate.value_flop)} FLOP"
    if format_flop(estimate.comparison_flop) != format_flop(estimate.value_flop):
        text += f" (at least {format_flop(estimate.comparison_flop)} FLOP)"
    return text


def _declared_phrase(declaration: ComputeDeclaration) -> str:
    text = f"Declared {format_flop(declaration.declared_training_flop)} FLOP"
    if declaration.base_model_training_flop:
        text += f" (cumulative {format_flop(declaration.cumulative_declared_flop)} with the base model)"
    return text


def _summary(
    declaration: ComputeDeclaration,
    estimates: tuple[ComputeEstimate, ...],
    comparisons: tuple[EstimateComparison, ...],
    deciding: EstimateComparison | None,
    estimated_tier: TierDecision,
) -> str:
    declared = _declared_phrase(declaration)
    if deciding is None:
        why = "; ".join(r for e in estimates for r in e.reasons[:1])
        return (
            f"{declared}; no independent estimate could be made ({why}); "
            f"tier {estimated_tier.tier.value} on the declaration alone."
        )
    estimate = next(e for e in estimates if e.method is deciding.method)
    tolerance = format_factor(deciding.tolerance_factor)
    crossing = deciding.crosses_threshold
    if deciding.exceeds_tolerance:
        text = (
            f"{declared}; {_estimate_phrase(estimate)} exceeds {'the cumulative' if estimate.cumulative else 'it'} by "
            f"{format_factor(deciding.ratio_to_declared)}, beyond the {tolerance} tolerance"
        )
        if crossing:
            text += f", and crosses the {format_flop(crossing[1])} {crossing[0]} threshold"
        return text + "."
    if crossing:
        return (
            f"{declared}; {_estimate_phrase(estimate)} is within the {tolerance} tolerance but crosses the "
            f"{format_flop(crossing[1])} {crossing[0]} threshold that the declaration does not."
        )
    figures = ", ".join(f"{c.method.value} {format_flop(c.comparison_flop)}" for c in comparisons)
    tolerances = sorted({format_factor(c.tolerance_factor) for c in comparisons})
    return (
        f"{declared}; the estimates ({figures} FLOP) are within the {' / '.join(tolerances)} tolerance; "
        f"tier {estimated_tier.tier.value}."
    )


def verify_declared_compute(
    declaration: ComputeDeclaration,
    attestations: Iterable[ComputeAttestation],
    profile: RuleProfile,
    catalogue: ChipCatalogue,
    *,
    extra_estimates: Sequence[ComputeEstimate] = (),
    context_notes: Sequence[str] = (),
) -> VerificationOutcome:
    """Judge one filing version's declared compute against architecture, hardware and attestation
    estimates (and any `extra_estimates`, e.g. the record of earlier versions for an amendment):
    consistent, discrepancy, or insufficient evidence, with every figure and reason. `context_notes`
    (e.g. a training notice's plan) are carried into the outcome's notes."""
    rules = profile.verification
    known = tuple(attestations)
    estimates = (
        estimate_from_architecture(declaration, rules=rules),
        estimate_from_hardware(declaration, rules=rules, catalogue=catalogue),
        estimate_from_attestations(declaration, known, rules=rules, catalogue=catalogue),
        *extra_estimates,
    )
    _, matches = match_attestations(declaration, known)
    bio = declaration.trained_mainly_on_biological_sequences
    declared_tier = classify_tier(
        training_flop=declaration.cumulative_declared_flop,
        thresholds=profile.thresholds,
        trained_mainly_on_biological_sequences=bio,
        designated=declaration.designated,
        decided_by="declared",
    )
    available = tuple(e for e in estimates if e.available)
    comparisons = tuple(compare_estimate(e, declaration, profile, declared_tier) for e in available)
    figures = [("declared", declaration.cumulative_declared_flop)]
    figures += [(c.method.value + " estimate", c.cumulative_flop) for c in comparisons]
    estimated_tier = classify_tier_from_figures(
        figures,
        thresholds=profile.thresholds,
        trained_mainly_on_biological_sequences=bio,
        designated=declaration.designated,
    )
    discrepancies = [c for c in comparisons if c.is_discrepancy]
    if not comparisons:
        status, deciding = VerificationStatus.INSUFFICIENT_EVIDENCE, None
    elif discrepancies:
        status = VerificationStatus.DISCREPANCY
        deciding = max(discrepancies, key=lambda c: (c.exceeds_tolerance, c.ratio_to_declared))
    else:
        status = VerificationStatus.CONSISTENT
        deciding = max(comparisons, key=lambda c: c.ratio_to_declared)
    notes: list[str] = list(context_notes)
    for comparison in comparisons:
        if comparison.overstated_by:
            notes.append(
                f"declared figure is {format_factor(comparison.overstated_by)} above the "
                f"{comparison.method.value} estimate, beyond the "
                f"{format_factor(comparison.tolerance_factor)} tolerance: possible overstatement "
                "(not a discrepancy)"
            )
    notes.extend(f"{e.label}: implausible utilisation" for e in available if e.implausible)
    threshold = deciding.crosses_threshold if deciding and deciding.crosses_threshold else None
    return VerificationOutcome(
        status=status,
        rule_profile_id=profile.id,
        model_name=declaration.model_name,
        declared_training_flop=declaration.declared_training_flop,
        cumulative_declared_flop=declaration.cumulative_declared_flop,
        estimates=estimates,
        comparisons=comparisons,
        deciding_method=deciding.method if deciding else None,
        tolerance_factor=deciding.tolerance_factor if deciding else None,
        threshold_at_stake=threshold or declared_tier.threshold_at_stake,
        declared_tier=declared_tier,
        estimated_tier=estimated_tier,
        attestation_matches=matches,
        summary=_summary(declaration, estimates, comparisons, deciding, estimated_tier)
        + "".join(f" Note: {r}." for e in available if e.implausible for r in e.reasons if "implausible" in r)
        + "".join(f" Note: {n}." for n in context_notes),
        reasons=tuple(f"{e.label}: {r}" for e in estimates for r in e.reasons),
        notes=tuple(notes),
    )
