"""Errors and the described-enum base shared by the evaluations domain."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict


class EvaluationsDomainError(ValueError):
    """Bad input to the evaluations domain: names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class CatalogueError(EvaluationsDomainError):
    """The evaluation catalogue (domains and suites) is invalid or does not fit the rule profile."""


class PlanningError(EvaluationsDomainError):
    """Inputs to the planner are inconsistent (unknown domain, duplicate lab, foreign request...)."""


class ResultError(EvaluationsDomainError):
    """A result was paired with the wrong request: a caller bug, not a lab's mistake."""


class DescribedEnum(StrEnum):
    """A string enum whose members carry a sentence an officer can read."""

    description: str

    def __new__(cls, value: str, description: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class Frozen(BaseModel):
    """Immutable, strict pydantic base for domain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def as_utc(moment: datetime, *, field: str) -> datetime:
    """Return `moment` in UTC; a naive datetime is refused because its day would be ambiguous."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EvaluationsDomainError(field, "must be timezone-aware (got a naive datetime)")
    return moment.astimezone(UTC)
