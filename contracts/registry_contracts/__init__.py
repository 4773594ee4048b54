"""Versioned event contracts of the frontier AI model registry.

Install this package to produce or consume registry events with typed models:
`Envelope[RegistrationSubmitted].model_validate_json(value)`.
"""

from .envelope import Envelope, EventData, RawEnvelope, new_envelope
from .events.audit import AuditAnchored
from .events.common import ComputeInputs, Developer, Tier
from .events.dead_letter import MessageDeadLettered
from .events.enforcement import CaseOpened
from .events.evaluations import EvaluationsPlanned, PlannedRequest, UnassignedDomain
from .events.intake import RegistrationSubmitted
from .events.verification import ComputeEstimate, ComputeVerified, VerificationStatus
from .topics import ALL_TOPICS, TopicDefinition, audit_anchor_topic, dead_letter_topic, event_types

__all__ = [
    "ALL_TOPICS",
    "AuditAnchored",
    "CaseOpened",
    "ComputeEstimate",
    "ComputeInputs",
    "ComputeVerified",
    "Developer",
    "Envelope",
    "EvaluationsPlanned",
    "EventData",
    "MessageDeadLettered",
    "PlannedRequest",
    "RawEnvelope",
    "RegistrationSubmitted",
    "Tier",
    "TopicDefinition",
    "UnassignedDomain",
    "VerificationStatus",
    "audit_anchor_topic",
    "dead_letter_topic",
    "event_types",
    "new_envelope",
]
