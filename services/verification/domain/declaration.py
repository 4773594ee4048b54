"""What verification receives: a developer's compute declaration and providers' attestations.

Both are validated on construction, so every later step can trust their values: a bad value raises a
VerificationInputError naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.verification.domain.chips import NumberFormat, parse_number_format
from services.verification.domain.errors import (
    MAX_CHIP_COUNT,
    MAX_CHIP_HOURS,
    MAX_EPOCHS,
    MAX_PARAMETERS,
    MAX_TRAINING_FLOP,
    MAX_TRAINING_HOURS,
    MAX_TRAINING_TOKENS,
    VerificationInputError,
    check_fraction,
    check_positive,
)


def _check_text(field: str, value: str | None, *, required: bool) -> None:
    if value is None:
        if required:
            raise VerificationInputError(field, "is required")
        return
    if not isinstance(value, str) or not value.strip():
        raise VerificationInputError(field, "must be a non-empty string")


def _check_count(field: str, value: int | None, *, maximum: float) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise VerificationInputError(field, f"must be a whole number, got {value!r}")
    check_positive(field, value, maximum=maximum)


def _as_date(field: str, value: date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise VerificationInputError(field, f"must be a date, got {value!r}")
    return value


def _check_period(start_field: str, start: date | None, end_field: str, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise VerificationInputError(end_field, f"{end.isoformat()} is before {start_field} {start.isoformat()}")


def normalise_party_name(name: str) -> str:
    """Key for comparing organisation names across filings ("Acme AI, Inc." == "acme ai inc")."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in name.casefold()).split())


@dataclass(frozen=True, kw_only=True)
class ComputeDeclaration:
    """The compute-relevant part of one filing version, as the developer declared it.

    For a modification of a registered model, the inputs and `declared_training_flop` describe the
    modification's own training; `base_model_training_flop` is the base model's compute from its
    registry record, added to give the cumulative compute that decides the tier.
    """

    developer: str
    model_name: str
    declared_training_flop: float
    parameters: float | None = None
    active_parameters: float | None = None
    is_mixture_of_experts: bool = False
    training_tokens: float | None = None  # dataset tokens; tokens seen = training_tokens x epochs
    epochs: float | None = None
    chip_type: str | None = None
    chip_count: int | None = None
    training_hours: float | None = None
    declared_utilisation: float | None = None
    number_format: NumberFormat | str | None = None
    training_start: date | None = None
    training_end: date | None = None
    cluster_id: str | None = None
    trained_mainly_on_biological_sequences: bool = False
    base_model_training_flop: float | None = None
    designated: bool = False
    registry_id: str | None = None  # lets a provider's attestation that names the model match it

    def __post_init__(self) -> None:
        _check_text("developer", self.developer, required=True)
        _check_text("model_name", self.model_name, required=True)
        if self.declared_training_flop is None:
            raise VerificationInputError("declared_training_flop", "is required")
        check_positive("declared_training_flop", self.declared_training_flop, maximum=MAX_TRAINING_FLOP)
        check_positive("parameters", self.parameters, maximum=MAX_PARAMETERS)
        check_positive("active_parameters", self.active_parameters, maximum=MAX_PARAMETERS)
        if self.parameters and self.active_parameters and self.active_parameters > self.parameters:
            raise VerificationInputError(
                "active_parameters",
                f"{self.active_parameters:.3g} exceeds total parameters {self.parameters:.3g}",
            )
        check_positive("training_tokens", self.training_tokens, maximum=MAX_TRAINING_TOKENS)
        check_positive("epochs", self.epochs, maximum=MAX_EPOCHS)
        _check_text("chip_type", self.chip_type, required=False)
        _check_count("chip_count", self.chip_count, maximum=MAX_CHIP_COUNT)
        check_positive("training_hours", self.training_hours, maximum=MAX_TRAINING_HOURS)
        check_fraction("declared_utilisation", self.declared_utilisation)
        object.__setattr__(self, "number_format", parse_number_format(self.number_format))
        object.__setattr__(self, "training_start", _as_date("training_start", self.training_start))
        object.__setattr__(self, "training_end", _as_date("training_end", self.training_end))
        _check_period("training_start", self.training_start, "training_end", self.training_end)
        _check_text("cluster_id", self.cluster_id, required=False)
        check_positive("base_model_training_flop", self.base_model_training_flop, maximum=MAX_TRAINING_FLOP)

    @property
    def format(self) -> NumberFormat | None:
        """The declared number format, parsed (None when not declared)."""
        return self.number_format if isinstance(self.number_format, NumberFormat) else None

    @property
    def cumulative_declared_flop(self) -> float:
        """Declared compute plus the base model's (for a modification): what the tier is judged on."""
        return self.declared_training_flop + (self.base_model_training_flop or 0.0)


@dataclass(frozen=True, kw_only=True)
class ComputeAttestation:
    """A compute provider's report of a training run it hosted (independent evidence of compute)."""

    attestation_id: str
    provider: str
    customer: str
    chip_type: str
    chip_hours: float
    period_start: date
    period_end: date
    cluster_id: str | None = None
    utilisation: float | None = None
    chip_count: int | None = None
    registry_id: str | None = None  # set when the provider names the model it attests

    def __post_init__(self) -> None:
        _check_text("attestation_id", self.attestation_id, required=True)
        _check_text("provider", self.provider, required=True)
        _check_text("customer", self.customer, required=True)
        _check_text("chip_type", self.chip_type, required=True)
        if self.chip_hours is None:
            raise VerificationInputError("chip_hours", "is required")
        check_positive("chip_hours", self.chip_hours, maximum=MAX_CHIP_HOURS)
        for name in ("period_start", "period_end"):
            if getattr(self, name) is None:
                raise VerificationInputError(name, "is required")
            object.__setattr__(self, name, _as_date(name, getattr(self, name)))
        _check_period("period_start", self.period_start, "period_end", self.period_end)
        _check_text("cluster_id", self.cluster_id, required=False)
        check_fraction("utilisation", self.utilisation)
        _check_count("chip_count", self.chip_count, maximum=MAX_CHIP_COUNT)
