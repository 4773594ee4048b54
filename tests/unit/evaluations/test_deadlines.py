from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.evaluations.domain import DeadlineBasis, evaluation_deadline
from services.plumbing.rule_profile import RuleProfile

from .factories import NOW, PROFILE, model, plan

pytestmark = pytest.mark.unit

DEFAULT_DAYS = PROFILE.deadlines.evaluation_default_days


def _profile_with_days(days: int) -> RuleProfile:
    deadlines = PROFILE.deadlines.model_copy(update={"evaluation_default_days": days})
    return PROFILE.model_copy(update={"deadlines": deadlines})


def test_default_deadline_is_now_plus_profile_days() -> None:
    result = plan()
    assert result.deadline == NOW + timedelta(days=DEFAULT_DAYS)
    assert result.deadline_basis is DeadlineBasis.DEFAULT and not result.deployment_flagged
    assert all(r.deadline == result.deadline for r in result.requests)


def test_deadline_days_come_from_the_profile() -> None:
    result = plan(profile=_profile_with_days(7))
    assert result.deadline == datetime(2026, 3, 17, 9, 30, tzinfo=UTC)


def test_sooner_deployment_caps_the_deadline_to_the_day_before() -> None:
    result = plan(model_=model(planned_deployment_date=date(2026, 3, 20)))
    assert result.deadline == datetime(2026, 3, 19, tzinfo=UTC)
    assert result.deadline_basis is DeadlineBasis.CAPPED_BY_DEPLOYMENT
    assert not result.deployment_flagged
    assert any("the day before planned deployment 2026-03-20" in r for r in result.reasons)
    assert {r.deadline for r in result.requests} == {datetime(2026, 3, 19, tzinfo=UTC)}


def test_later_deployment_keeps_the_default() -> None:
    deadline, basis, note = evaluation_deadline(now=NOW, planned_deployment_date=date(2026, 12, 1), profile=PROFILE)
    assert deadline == NOW + timedelta(days=DEFAULT_DAYS) and basis is DeadlineBasis.DEFAULT
    assert "before planned deployment 2026-12-01" in note


def test_deployment_in_two_days_leaves_a_day() -> None:
    deadline, basis, _ = evaluation_deadline(now=NOW, planned_deployment_date=date(2026, 3, 12), profile=PROFILE)
    assert (deadline, basis) == (datetime(2026, 3, 11, tzinfo=UTC), DeadlineBasis.CAPPED_BY_DEPLOYMENT)


def test_deployment_tomorrow_is_flagged() -> None:
    result = plan(model_=model(planned_deployment_date=date(2026, 3, 11)))
    assert result.deadline_basis is DeadlineBasis.DEPLOYMENT_TOO_SOON and result.deployment_flagged
    assert result.deadline == NOW + timedelta(days=DEFAULT_DAYS)
    assert any("is tomorrow: no time to evaluate first" in r for r in result.reasons)
    assert len(result.requests) == 5  # still requested: the flag escalates, it does not cancel


@pytest.mark.parametrize("deployment", [date(2026, 3, 10), date(2026, 3, 1), date(2020, 1, 1)])
def test_deployment_today_or_past_is_flagged(deployment: date) -> None:
    result = plan(model_=model(planned_deployment_date=deployment))
    assert result.deadline_basis is DeadlineBasis.DEPLOYMENT_PASSED and result.deployment_flagged
    assert any(f"planned deployment {deployment} is today or past" in r for r in result.reasons)


def test_day_boundaries_are_utc() -> None:
    # 23:30 UTC on 10 March: deployment on 12 March still leaves the cap (11 March 00:00) ahead.
    late_evening = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    deadline, basis, _ = evaluation_deadline(
        now=late_evening, planned_deployment_date=date(2026, 3, 12), profile=PROFILE
    )
    assert (deadline, basis) == (datetime(2026, 3, 11, tzinfo=UTC), DeadlineBasis.CAPPED_BY_DEPLOYMENT)


def test_empty_plan_has_no_deadline() -> None:
    from registry_contracts import Tier

    result = plan(model_=model(tier=Tier.BELOW, planned_deployment_date=date(2026, 3, 11)))
    assert result.deadline is None and result.deadline_basis is None and not result.deployment_flagged
