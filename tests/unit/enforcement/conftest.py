from __future__ import annotations

import pytest

from services.plumbing.rule_profile import RuleProfile

from ._factories import baseline


@pytest.fixture
def profile() -> RuleProfile:
    return baseline()
