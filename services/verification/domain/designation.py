"""The regulator's designation of a model (DOMAIN "Scope and thresholds"): at least reportable whatever its compute.

A designation belongs to the model, not to one filing version: the decision in force applies to every run of every
version after it, and an amendment inherits it. A decision that would leave the model as it is changes nothing
(no new run); one decided before the decision in force arrived late and changes nothing either. The tier rule
itself is in tiers.py (`classify_tier(designated=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DesignationEffect(StrEnum):
    """What one designation decision does to the model it names."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    OUTDATED = "outdated"

    @property
    def description(self) -> str:
        return {
            DesignationEffect.APPLIED: "the model's designation changes: its latest version is verified again",
            DesignationEffect.UNCHANGED: "the model is already in that state: kept, nothing verified again",
            DesignationEffect.OUTDATED: "decided before the decision in force: kept, no effect",
        }[self]


@dataclass(frozen=True, kw_only=True)
class DesignationDecision:
    """One decision of the regulator about one model (a ModelDesignationChanged)."""

    designation_id: str
    designated: bool
    reason: str
    decided_by: str
    decided_at: datetime


def designation_effect(
    decision: DesignationDecision, *, designated_now: bool, in_force: DesignationDecision | None
) -> DesignationEffect:
    """What `decision` does, given whether the model counts as designated now (`designated_now`: the decision in
    force, else what its filing said) and the decision in force, if any."""
    if in_force is not None and decision.decided_at < in_force.decided_at:
        return DesignationEffect.OUTDATED
    if decision.designated == designated_now:
        return DesignationEffect.UNCHANGED
    return DesignationEffect.APPLIED


def designation_note(decision: DesignationDecision) -> str:
    """The sentence a verification run carries about the regulator's decision in force."""
    made = f"{decision.designation_id} by {decision.decided_by} on {decision.decided_at.date().isoformat()}"
    reason = decision.reason.strip().rstrip(".").strip()
    made += f": {reason}" if reason else ""
    if decision.designated:
        return f"designated by the regulator ({made}): at least reportable regardless of compute"
    return f"designation revoked by the regulator ({made}): the tier follows the compute"
