"""Errors and input sanity bounds for the verification domain.

The bounds are not rules of any regime (those live in the rule profile): they reject values no real
training run can have, so a typo (a missing exponent, a unit mix-up) fails clearly at the boundary.
"""

from __future__ import annotations

import math

MAX_PARAMETERS = 1e15
MAX_TRAINING_TOKENS = 1e16
MAX_TRAINING_FLOP = 1e32
MAX_CHIP_COUNT = 10_000_000
MAX_TRAINING_HOURS = 100_000.0
MAX_CHIP_HOURS = MAX_CHIP_COUNT * MAX_TRAINING_HOURS
MAX_EPOCHS = 100_000.0


class VerificationInputError(ValueError):
    """A declaration, attestation or catalogue entry has a value the verification cannot use."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class UnknownNumberFormatError(VerificationInputError):
    """The declared number format is not one the chip catalogue knows."""


def check_positive(field: str, value: float | int | None, *, maximum: float) -> None:
    """Reject zero, negative, NaN, infinite and absurdly large values (None means 'not declared')."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerificationInputError(field, f"must be a number, got {type(value).__name__}")
    if math.isnan(value) or math.isinf(value):
        raise VerificationInputError(field, f"must be a finite number, got {value}")
    if value <= 0:
        raise VerificationInputError(field, f"must be greater than zero, got {value:g}")
    if value > maximum:
        raise VerificationInputError(field, f"{value:.3g} exceeds the plausible maximum {maximum:.3g}")


def check_fraction(field: str, value: float | None) -> None:
    """A utilisation is a share of peak: strictly between 0 and 1 (inclusive of 1)."""
    if value is None:
        return
    check_positive(field, value, maximum=1.0)
