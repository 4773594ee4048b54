"""Shared building blocks of the enforcement domain: immutable models and input checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.enforcement.domain.errors import EnforcementInputError

#: A string that must carry something once surrounding whitespace is removed.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

#: Who acts when no person does (deadline handlers, automatic case opening).
SYSTEM_ACTOR = "system"


class FrozenModel(BaseModel):
    """Immutable, strict-shape value: unknown fields and NaN/infinite numbers are rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def require_aware(field: str, value: datetime) -> datetime:
    """Return `value` if it is a timezone-aware datetime; naive times are ambiguous across services."""
    if not isinstance(value, datetime):
        raise EnforcementInputError(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise EnforcementInputError(field, "must be timezone-aware (e.g. UTC)")
    return value


def require_text(field: str, value: str) -> str:
    """Return `value` stripped, refusing empty or non-string input."""
    if not isinstance(value, str) or not value.strip():
        raise EnforcementInputError(field, "must be a non-empty string")
    return value.strip()


def describe_duration(delta: timedelta) -> str:
    """Readable length of time for officers, e.g. '3 days 4 hours'."""
    total_minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes and not days:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) or "less than a minute"


def describe_time(value: datetime) -> str:
    """ISO-like UTC-offset timestamp to the minute, as officers read it in a timeline."""
    return value.isoformat(timespec="minutes")
