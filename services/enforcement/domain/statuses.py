"""Enumerations of the case workflow and of public standing, each member with a description."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case is in its workflow; the allowed moves are in workflow.ALLOWED_TRANSITIONS."""

    OPENED = "opened"
    TRIAGED = "triaged"
    NOTICE_ISSUED = "notice_issued"
    AWAITING_RESPONSE = "awaiting_response"
    READY_FOR_DECISION = "ready_for_decision"
    DECIDED = "decided"
    APPEALED = "appealed"
    CLOSED = "closed"

    @property
    def description(self) -> str:
        """What this status means."""
        return _CASE_STATUS_DESCRIPTIONS[self]

    @property
    def is_open(self) -> bool:
        """True for every status but closed."""
        return self is not CaseStatus.CLOSED


_CASE_STATUS_DESCRIPTIONS = {
    CaseStatus.OPENED: "A breach was detected; no officer has reviewed it yet.",
    CaseStatus.TRIAGED: "An officer reviewed the breach and is pursuing it.",
    CaseStatus.NOTICE_ISSUED: "A notice was issued to the developer; its response window is running.",
    CaseStatus.AWAITING_RESPONSE: "The notice was served on the developer; the registry awaits its response.",
    CaseStatus.READY_FOR_DECISION: "The developer responded or its window closed; an officer decides.",
    CaseStatus.DECIDED: "An officer decided whether the breach is established; actions may follow.",
    CaseStatus.APPEALED: "The developer appealed the decision; it is under review.",
    CaseStatus.CLOSED: "The case is finished, with a resolution reason.",
}


class ResolutionReason(StrEnum):
    """Why a case was closed."""

    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"
    NO_BREACH_FOUND = "no_breach_found"
    REMEDIED = "remedied"
    SANCTIONED = "sanctioned"
    BREACH_ESTABLISHED_NO_ACTION = "breach_established_no_action"
    BREACH_NOT_ESTABLISHED = "breach_not_established"

    @property
    def description(self) -> str:
        """What this resolution means."""
        return _RESOLUTION_DESCRIPTIONS[self]


_RESOLUTION_DESCRIPTIONS = {
    ResolutionReason.DUPLICATE: "Another case covers the same breach.",
    ResolutionReason.OUT_OF_SCOPE: "The model or conduct is outside the registry's rules.",
    ResolutionReason.NO_BREACH_FOUND: "Review showed the trigger was mistaken; no breach occurred.",
    ResolutionReason.REMEDIED: "The developer cured the breach after notice; no decision was needed.",
    ResolutionReason.SANCTIONED: "A breach was established and an enforcement action was taken.",
    ResolutionReason.BREACH_ESTABLISHED_NO_ACTION: "A breach was established; no action was warranted.",
    ResolutionReason.BREACH_NOT_ESTABLISHED: "After hearing the developer, the breach was not established.",
}


class DecisionOutcome(StrEnum):
    """What an officer decided (or an appeal review confirmed)."""

    BREACH_ESTABLISHED = "breach_established"
    BREACH_NOT_ESTABLISHED = "breach_not_established"

    @property
    def description(self) -> str:
        """What this decision means."""
        return _DECISION_DESCRIPTIONS[self]


_DECISION_DESCRIPTIONS = {
    DecisionOutcome.BREACH_ESTABLISHED: "The breach is established; sanctions may be imposed.",
    DecisionOutcome.BREACH_NOT_ESTABLISHED: "The breach is not established; no sanction may be imposed.",
}


class Standing(StrEnum):
    """A model's public standing: what a third party sees when it asks 'may I use model X?'."""

    REGISTERED_GOOD_STANDING = "registered_good_standing"
    UNDER_REVIEW = "under_review"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"

    @property
    def description(self) -> str:
        """What this standing means for a third party."""
        return _STANDING_DESCRIPTIONS[self]


_STANDING_DESCRIPTIONS = {
    Standing.REGISTERED_GOOD_STANDING: "Registered and in good standing: may be used.",
    Standing.UNDER_REVIEW: "Registered; an enforcement case questions its record or safety. May be used.",
    Standing.SUSPENDED: "Suspended: third parties must stop using the model.",
    Standing.WITHDRAWN: "Withdrawn by its developer: no longer offered.",
    Standing.UNKNOWN: "Not registered: the registry knows no such model, so it may not be used.",
}


class TimelineKind(StrEnum):
    """What a timeline entry records; each maps to one event the handler publishes."""

    CASE_OPENED = "case_opened"
    BREACH_RECORDED = "breach_recorded"
    STATUS_CHANGED = "status_changed"
    NOTICE_ISSUED = "notice_issued"
    RESPONSE_RECEIVED = "response_received"
    RESPONSE_DEADLINE_PASSED = "response_deadline_passed"
    DECISION_RECORDED = "decision_recorded"
    APPEAL_FILED = "appeal_filed"
    APPEAL_DECIDED = "appeal_decided"
    CASE_CLOSED = "case_closed"
    OFFICER_ASSIGNED = "officer_assigned"
    NOTE_ADDED = "note_added"
    ACTION_TAKEN = "action_taken"

    @property
    def description(self) -> str:
        """What this kind of entry records."""
        return _TIMELINE_DESCRIPTIONS[self]


_TIMELINE_DESCRIPTIONS = {
    TimelineKind.CASE_OPENED: "A breach opened the case.",
    TimelineKind.BREACH_RECORDED: "A further breach of the same rule by the same model was added.",
    TimelineKind.STATUS_CHANGED: "The case moved to another status.",
    TimelineKind.NOTICE_ISSUED: "A notice was issued to the developer with a response deadline.",
    TimelineKind.RESPONSE_RECEIVED: "The developer responded to the notice.",
    TimelineKind.RESPONSE_DEADLINE_PASSED: "The response window closed without a response.",
    TimelineKind.DECISION_RECORDED: "An officer decided the case.",
    TimelineKind.APPEAL_FILED: "The developer appealed the decision.",
    TimelineKind.APPEAL_DECIDED: "The appeal was reviewed and the case decided again.",
    TimelineKind.CASE_CLOSED: "The case was closed with a resolution reason.",
    TimelineKind.OFFICER_ASSIGNED: "An officer was assigned to the case.",
    TimelineKind.NOTE_ADDED: "An officer added a note.",
    TimelineKind.ACTION_TAKEN: "An enforcement action was taken.",
}
