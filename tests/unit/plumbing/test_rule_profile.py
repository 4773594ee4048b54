from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.plumbing.rule_profile import BUILTIN_DIR, load_rule_profile, parse_rule_profile

pytestmark = pytest.mark.unit


def test_builtin_profile_has_the_domain_numbers() -> None:
    profile = load_rule_profile()
    assert profile.thresholds.reportable_flop == 1e25
    assert profile.thresholds.frontier_flop == 1e26
    assert profile.thresholds.biological_sequence_flop == 1e23
    assert profile.deadlines.incident_report_days == 15
    assert profile.deadlines.incident_imminent_risk_hours == 24
    assert profile.penalties.eu_gpai.floor_cap_eur == 15_000_000
    assert set(profile.evaluations.domains_for("reportable")) <= set(profile.evaluations.domains_for("frontier"))


def test_unknown_profile_names_the_builtin_ones() -> None:
    with pytest.raises(ValueError, match="baseline-2026-01"):
        load_rule_profile("no-such-profile")


def test_a_bad_profile_fails_loudly() -> None:
    text = (BUILTIN_DIR / "baseline-2026-01.toml").read_text().replace("frontier_flop = 1e26", "frontier_flop = -1")
    with pytest.raises(ValidationError, match="frontier_flop"):
        parse_rule_profile(text)
