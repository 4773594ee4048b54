"""Errors the enforcement domain raises: all ValueError subclasses with a message an officer can read."""

from __future__ import annotations

from collections.abc import Iterable


class EnforcementInputError(ValueError):
    """An input is missing or wrong; `field` names it and `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class IllegalTransition(ValueError):
    """A case cannot move from its status to the requested one."""

    def __init__(
        self,
        *,
        case_id: str,
        from_status: str,
        to_status: str,
        allowed: Iterable[str],
        detail: str | None = None,
    ) -> None:
        self.case_id = case_id
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = tuple(sorted(str(status) for status in allowed))
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        message = (
            f"case {case_id}: cannot move from {from_status} to {to_status}; "
            f"allowed next statuses from {from_status}: {allowed_text}"
        )
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)


class AppealWindowClosed(IllegalTransition):
    """The pair decided/closed -> appealed is allowed, but not now: the appeal window has passed."""


class ActionNotAllowed(ValueError):
    """An enforcement action cannot be taken on this case or model (e.g. a penalty before a decision)."""


class DeadlineNotReached(ValueError):
    """A deadline handler was called before the deadline passed."""
