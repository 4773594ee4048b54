"""What the registry already knows about a model: earlier versions (for amendments) and training notices.

An amendment declares its own modification's compute and the cumulative compute of the model. The
registry's record of the earlier versions, plus the modification, is an independent figure for that
cumulative compute: it is compared with the declaration like any estimate (same tolerance, same
thresholds), so a cumulative figure that quietly drops earlier compute, or ignores a verified
understatement of the base model, is caught. A training notice's planned compute is a plan, not
evidence: it only adds a note when the declaration falls far below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from services.verification.domain.declaration import ComputeDeclaration
from services.verification.domain.errors import MAX_TRAINING_FLOP, check_positive
from services.verification.domain.estimate import (
    ComputeEstimate,
    EstimateMethod,
    InputValue,
    format_factor,
    format_flop,
    no_estimate,
)


@dataclass(frozen=True, kw_only=True)
class PriorCompute:
    """The model's compute on record before the version being verified."""

    version: int
    declared_cumulative_flop: float
    verified_flop: float | None = None  # the figure that decided that version's verified tier
    verified_by: str | None = None  # which figure that was ("declared", "architecture estimate", ...)

    def __post_init__(self) -> None:
        check_positive("declared_cumulative_flop", self.declared_cumulative_flop, maximum=MAX_TRAINING_FLOP)
        check_positive("verified_flop", self.verified_flop, maximum=MAX_TRAINING_FLOP)

    @property
    def recorded_flop(self) -> float:
        """The larger of what was declared and what verification found for the earlier version."""
        return max(self.declared_cumulative_flop, self.verified_flop or 0.0)

    def describe(self) -> str:
        text = f"version {self.version} declared {format_flop(self.declared_cumulative_flop)} FLOP"
        if self.verified_flop and self.verified_flop > self.declared_cumulative_flop:
            text += f" and was verified at {format_flop(self.verified_flop)} FLOP ({self.verified_by or 'estimate'})"
        return text


def estimate_from_record(
    declaration: ComputeDeclaration, prior: PriorCompute | None, *, modification_trained: bool
) -> ComputeEstimate:
    """Cumulative compute from the record: the earlier version's recorded figure plus this modification's
    declared compute (nothing when the amendment involved no training)."""
    method = EstimateMethod.RECORD
    if prior is None:
        return no_estimate(method, "no earlier version of this model on record")
    own = declaration.declared_training_flop if modification_trained else 0.0
    value = prior.recorded_flop + own
    formula = f"version {prior.version} on record {format_flop(prior.recorded_flop)}"
    formula += f" + this modification's declared {format_flop(own)}" if own else " (no training in this amendment)"
    inputs: dict[str, InputValue] = {
        "prior_version": prior.version,
        "prior_declared_cumulative_flop": prior.declared_cumulative_flop,
        "prior_verified_flop": prior.verified_flop,
        "modification_flop": own,
    }
    return ComputeEstimate(
        method=method,
        value_flop=value,
        low_flop=value,
        high_flop=value,
        comparison_flop=value,
        cumulative=True,
        formula=formula,
        inputs=MappingProxyType(inputs),
        reasons=(
            f"{formula} = {format_flop(value)} FLOP",
            prior.describe(),
            f"this amendment declares cumulative {format_flop(declaration.cumulative_declared_flop)} FLOP",
        ),
    )


def planned_compute_note(
    declaration: ComputeDeclaration, *, notice_id: str, planned_training_flop: float, tolerance_factor: float
) -> str | None:
    """A note when the run's declared compute is below its training notice's plan by more than the
    tolerance (the run may have been cut short, or the declaration understated); else None."""
    declared = declaration.declared_training_flop
    if planned_training_flop <= declared * tolerance_factor:
        return None
    return (
        f"training notice {notice_id} planned {format_flop(planned_training_flop)} FLOP, "
        f"{format_factor(planned_training_flop / declared)} the declared {format_flop(declared)} FLOP "
        f"(beyond the {format_factor(tolerance_factor)} tolerance; a plan, not evidence)"
    )
