"""Matching compute providers' attestations to a declared run, and the estimate they give.

Attestations may arrive before or after the registration: callers pass every attestation known so
far and this module picks the ones that describe the declared run, explaining each non-match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from services.plumbing.rule_profile import VerificationRules
from services.verification.domain.chips import ChipCatalogue
from services.verification.domain.declaration import (
    ComputeAttestation,
    ComputeDeclaration,
    normalise_party_name,
)
from services.verification.domain.estimate import (
    ComputeEstimate,
    EstimateMethod,
    InputValue,
    format_flop,
    no_estimate,
)
from services.verification.domain.estimators import SECONDS_PER_HOUR, utilisation_band


@dataclass(frozen=True)
class AttestationMatch:
    """Whether one attestation describes the declared run, and why (not)."""

    attestation_id: str
    matched: bool
    reason: str


def match_attestation(declaration: ComputeDeclaration, attestation: ComputeAttestation) -> AttestationMatch:
    """Match on developer (= customer), overlapping training period, and cluster when both name one.

    An attestation that names a model (registry id) matches only that model; when that model declared
    no training period, the name alone (with the developer) is enough.
    """
    aid = attestation.attestation_id
    if normalise_party_name(attestation.customer) != normalise_party_name(declaration.developer):
        return AttestationMatch(
            aid, False, f"customer {attestation.customer!r} is not developer {declaration.developer!r}"
        )
    named = attestation.registry_id
    if named and declaration.registry_id and named != declaration.registry_id:
        return AttestationMatch(aid, False, f"it names model {named}, not {declaration.registry_id}")
    start, end = declaration.training_start, declaration.training_end
    if start is None or end is None:
        if named and named == declaration.registry_id:
            return AttestationMatch(aid, True, "matched on developer and the model the provider named")
        return AttestationMatch(aid, False, "the declaration has no training period to match against")
    if attestation.period_end < start or attestation.period_start > end:
        return AttestationMatch(
            aid,
            False,
            f"period {attestation.period_start.isoformat()}..{attestation.period_end.isoformat()} does not "
            f"overlap the declared training {start.isoformat()}..{end.isoformat()}",
        )
    if declaration.cluster_id and attestation.cluster_id and attestation.cluster_id != declaration.cluster_id:
        return AttestationMatch(
            aid, False, f"cluster {attestation.cluster_id!r} is not the declared {declaration.cluster_id!r}"
        )
    basis = "developer, overlapping period"
    if named and named == declaration.registry_id:
        basis += ", the model the provider named"
    if declaration.cluster_id and attestation.cluster_id:
        basis += " and cluster"
    elif declaration.cluster_id or attestation.cluster_id:
        basis += " (cluster not named on both sides)"
    return AttestationMatch(aid, True, f"matched on {basis}")


def match_attestations(
    declaration: ComputeDeclaration, attestations: Iterable[ComputeAttestation]
) -> tuple[tuple[ComputeAttestation, ...], tuple[AttestationMatch, ...]]:
    """(matching attestations, one explanation per attestation); duplicates by id count once."""
    seen: set[str] = set()
    matched: list[ComputeAttestation] = []
    explanations: list[AttestationMatch] = []
    for attestation in sorted(attestations, key=lambda a: (a.period_start, a.attestation_id)):
        if attestation.attestation_id in seen:
            continue  # a redelivered attestation must not double the chip-hours
        seen.add(attestation.attestation_id)
        result = match_attestation(declaration, attestation)
        explanations.append(result)
        if result.matched:
            matched.append(attestation)
    return tuple(matched), tuple(explanations)


def estimate_from_attestations(
    declaration: ComputeDeclaration,
    attestations: Iterable[ComputeAttestation],
    *,
    rules: VerificationRules,
    catalogue: ChipCatalogue,
) -> ComputeEstimate:
    """Sum over matching attestations of chip-hours x dense peak x utilisation (attested, else declared,
    else the typical band)."""
    method = EstimateMethod.ATTESTATION
    matched, explanations = match_attestations(declaration, attestations)
    non_matches = [f"attestation {m.attestation_id}: {m.reason}" for m in explanations if not m.matched]
    if not explanations:
        return no_estimate(method, "no compute attestation received")
    if not matched:
        return no_estimate(method, "no attestation matches this run", *non_matches)
    reasons: list[str] = []
    low = high = point = compare = 0.0
    implausible = False
    used: list[str] = []
    chip_hours_total = 0.0
    for attestation in matched:
        chip = catalogue.find(attestation.chip_type)
        if chip is None:
            reasons.append(
                f"attestation {attestation.attestation_id}: unknown chip {attestation.chip_type!r} "
                f"(not in chip catalogue {catalogue.version}); not used"
            )
            continue
        peak, fmt, format_note = chip.peak_for(declaration.format)
        utilisation = attestation.utilisation or declaration.declared_utilisation
        point_u, low_u, high_u, compare_u, u_reasons, bad_u = utilisation_band(utilisation, rules=rules)
        raw = attestation.chip_hours * SECONDS_PER_HOUR * peak
        point += raw * point_u
        low += raw * low_u
        high += raw * high_u
        compare += raw * compare_u
        implausible = implausible or bad_u
        chip_hours_total += attestation.chip_hours
        used.append(attestation.attestation_id)
        source = "attested" if attestation.utilisation else "declared" if utilisation else "assumed"
        line = (
            f"attestation {attestation.attestation_id} ({attestation.provider}): "
            f"{attestation.chip_hours:,.0f} "
            f"{chip.name} chip-hours x {peak / 1e12:g} TFLOP/s ({fmt.description}) x {point_u:g} {source} "
            f"utilisation = {format_flop(raw * point_u)} FLOP"
        )
        reasons.append(line)
        reasons.extend(f"attestation {attestation.attestation_id}: {r}" for r in u_reasons)
        if format_note:
            reasons.append(format_note)
    reasons.extend(non_matches)
    if not used:
        return no_estimate(method, *reasons)
    formula = f"{chip_hours_total:,.0f} attested chip-hours from {len(used)} attestation(s)"
    inputs: dict[str, InputValue] = {
        "attestation_ids": ",".join(used),
        "chip_hours": chip_hours_total,
        "catalogue_version": catalogue.version,
    }
    return ComputeEstimate(
        method=method,
        value_flop=point,
        low_flop=low,
        high_flop=high,
        comparison_flop=compare,
        implausible=implausible,
        formula=formula,
        inputs=MappingProxyType(inputs),
        reasons=(f"{formula} = {format_flop(point)} FLOP", *reasons),
    )
