"""Choosing a lab for one domain's request: eligibility, conflicts of interest, balanced load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from fractions import Fraction

from .errors import Frozen
from .labs import Lab, LabExclusionReason


class LabExclusion(Frozen):
    """One reason one lab could not take a domain's request."""

    lab_id: str
    reason: LabExclusionReason
    detail: str


def choose_lab(
    *, domain: str, organisations: Sequence[str], labs: Sequence[Lab], load: Mapping[str, int], today: date
) -> tuple[Lab | None, tuple[LabExclusion, ...]]:
    """The eligible lab with the lowest load/capacity ratio (ties: lowest lab id), or None and why.

    Eligible: accredited for `domain`, accredited on `today`, load below capacity, and not affiliated
    with any of `organisations`. `load` must count every open request, including this plan's.
    """
    eligible: list[Lab] = []
    exclusions: list[LabExclusion] = []
    for lab in sorted(labs, key=lambda candidate: candidate.lab_id):
        if domain not in lab.domains:
            continue  # labs outside the domain are not worth listing to an officer
        found = _exclusions(lab=lab, organisations=organisations, load=load.get(lab.lab_id, 0), today=today)
        exclusions.extend(found)
        if not found:
            eligible.append(lab)
    if not eligible:
        return None, tuple(exclusions)
    # Least loaded ratio first; exact fractions so 1/3 and 2/6 tie and fall to the lab id.
    best = min(eligible, key=lambda lab: (Fraction(load.get(lab.lab_id, 0), lab.capacity), lab.lab_id))
    return best, ()


def _exclusions(*, lab: Lab, organisations: Sequence[str], load: int, today: date) -> list[LabExclusion]:
    found: list[LabExclusion] = []
    if not lab.accredited:
        found.append(
            LabExclusion(
                lab_id=lab.lab_id,
                reason=LabExclusionReason.NOT_ACCREDITED,
                detail=f"{lab.name} holds no current accreditation",
            )
        )
    elif not lab.is_accredited_on(today):
        found.append(
            LabExclusion(
                lab_id=lab.lab_id,
                reason=LabExclusionReason.ACCREDITATION_EXPIRED,
                detail=f"{lab.name}'s accreditation ended {lab.accredited_until}",
            )
        )
    if lab.suspended:
        found.append(
            LabExclusion(
                lab_id=lab.lab_id,
                reason=LabExclusionReason.SUSPENDED,
                detail=f"{lab.name} is suspended ({lab.suspension_reason or 'no reason given'})",
            )
        )
    conflicts = lab.affiliated_with(organisations)
    if conflicts:
        found.append(
            LabExclusion(
                lab_id=lab.lab_id,
                reason=LabExclusionReason.AFFILIATED,
                detail=f"{lab.name} declared an affiliation with {', '.join(conflicts)}",
            )
        )
    if load >= lab.capacity:
        found.append(
            LabExclusion(
                lab_id=lab.lab_id,
                reason=LabExclusionReason.AT_CAPACITY,
                detail=f"{lab.name} is at capacity ({load}/{lab.capacity} open)",
            )
        )
    return found


def unassignable_reason(*, domain: str, developer: str, exclusions: Sequence[LabExclusion]) -> str:
    """The sentence an officer reads when no lab can take a domain, with each lab's reason."""
    if not exclusions:
        return f"no lab is accredited for {domain} at all"
    details = "; ".join(e.detail for e in exclusions)
    return f"no accredited lab covers {domain} with free capacity that is not affiliated with {developer}: {details}"
