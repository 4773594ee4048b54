"""Intake's pure domain: filings as validated requests, registry ids, deadlines, confidentiality, standing."""

from .registration import (
    ComputeDeclaration,
    RegistrationRequest,
    format_registry_id,
    implied_tier,
    is_registration_late,
    registration_submitted,
)

__all__ = [
    "ComputeDeclaration",
    "RegistrationRequest",
    "format_registry_id",
    "implied_tier",
    "is_registration_late",
    "registration_submitted",
]
