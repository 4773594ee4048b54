"""Intake's pure domain: filings as validated requests, registry ids, lateness."""

from .registration import (
    RegistrationRequest,
    format_registry_id,
    is_registration_late,
    registration_submitted,
)

__all__ = ["RegistrationRequest", "format_registry_id", "is_registration_late", "registration_submitted"]
