"""When each filing is due, from the rule profile; a late filing is accepted and recorded as late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.plumbing.rule_profile import RuleProfile


@dataclass(frozen=True)
class Deadline:
    """What the deadline counts from, when it falls, and whether a filing at `filed_at` missed it."""

    anchor_at: datetime
    due_at: datetime
    filed_at: datetime

    @property
    def late(self) -> bool:
        return self.filed_at > self.due_at


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def training_notice_deadline(threshold_crossed_on: date | None, filed_at: datetime, profile: RuleProfile) -> Deadline:
    """Due within the profile's days after the run crossed a threshold (a notice before crossing is on time)."""
    crossed = threshold_crossed_on or filed_at.date()
    days = profile.deadlines.training_notice_days_after_crossing
    return Deadline(_start_of_day(crossed), _end_of_day(crossed + timedelta(days=days)), filed_at)


def registration_deadline(planned_deployment: date | None, filed_at: datetime, profile: RuleProfile) -> Deadline:
    """Due the profile's days before the planned first deployment (no deployment planned: due now, on time)."""
    if planned_deployment is None:
        return Deadline(filed_at, filed_at, filed_at)
    days = profile.deadlines.registration_days_before_deployment
    return Deadline(_start_of_day(planned_deployment), _end_of_day(planned_deployment - timedelta(days=days)), filed_at)


def deployment_deadline(first_registered_at: datetime, deployed_on: date, profile: RuleProfile) -> Deadline:
    """A deployment reported earlier than the profile's days after registration shows the registration was late."""
    days = profile.deadlines.registration_days_before_deployment
    due = _end_of_day(deployed_on - timedelta(days=days))
    return Deadline(_start_of_day(deployed_on), due, first_registered_at)


def incident_deadline(
    discovered_at: datetime, imminent_risk: bool, filed_at: datetime, profile: RuleProfile
) -> Deadline:
    """SB 53 clocks: the profile's hours when there is imminent risk of death or injury, else its days."""
    deadlines = profile.deadlines
    window = (
        timedelta(hours=deadlines.incident_imminent_risk_hours)
        if imminent_risk
        else timedelta(days=deadlines.incident_report_days)
    )
    return Deadline(discovered_at, discovered_at + window, filed_at)
