"""Shared fixtures for the verification domain's unit tests."""

from __future__ import annotations

import pytest

from services.plumbing.rule_profile import RuleProfile, load_rule_profile
from services.verification.domain import ChipCatalogue, load_chip_catalogue


@pytest.fixture(scope="session")
def profile() -> RuleProfile:
    return load_rule_profile("baseline-2026-01")


@pytest.fixture(scope="session")
def catalogue() -> ChipCatalogue:
    return load_chip_catalogue()
