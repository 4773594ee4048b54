"""When evaluation requests are due: the profile's default, capped by a sooner planned deployment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.plumbing.rule_profile import RuleProfile

from .errors import DescribedEnum, as_utc


class DeadlineBasis(DescribedEnum):
    """How the plan's deadline was set."""

    DEFAULT = "default", "now + the profile's evaluation_default_days."
    CAPPED_BY_DEPLOYMENT = "capped_by_deployment", "The day before the planned deployment date (sooner)."
    DEPLOYMENT_TOO_SOON = (
        "deployment_too_soon",
        "Deployment is planned for tomorrow: no time to evaluate first. Default deadline kept; flagged.",
    )
    DEPLOYMENT_PASSED = (
        "deployment_passed",
        "The planned deployment date is today or past: evaluation cannot precede it. Default kept; flagged.",
    )


def evaluation_deadline(
    *, now: datetime, planned_deployment_date: date | None, profile: RuleProfile
) -> tuple[datetime, DeadlineBasis, str]:
    """The deadline for new requests, how it was set, and a sentence saying so.

    Default: now + evaluation_default_days. A sooner deployment caps it at 00:00 UTC the day before the
    deployment date. If that moment has already passed (deployment today, tomorrow or earlier) the
    default is kept and the basis flags it: an impossible deadline would only make the lab overdue.
    """
    now = as_utc(now, field="now")
    days = profile.deadlines.evaluation_default_days
    default = now + timedelta(days=days)
    if planned_deployment_date is None:
        return default, DeadlineBasis.DEFAULT, f"deadline {default:%Y-%m-%d %H:%M} UTC: now + {days} days"
    if planned_deployment_date <= now.date():
        return (
            default,
            DeadlineBasis.DEPLOYMENT_PASSED,
            (
                f"planned deployment {planned_deployment_date} is today or past: "
                "evaluation cannot precede it; "
                f"deadline kept at now + {days} days ({default:%Y-%m-%d}); flagged"
            ),
        )
    cap = datetime.combine(planned_deployment_date - timedelta(days=1), time.min, tzinfo=UTC)
    if cap <= now:
        return (
            default,
            DeadlineBasis.DEPLOYMENT_TOO_SOON,
            (
                f"planned deployment {planned_deployment_date} is tomorrow: no time to evaluate first; "
                f"deadline kept at now + {days} days ({default:%Y-%m-%d}); flagged"
            ),
        )
    if cap < default:
        return (
            cap,
            DeadlineBasis.CAPPED_BY_DEPLOYMENT,
            (
                f"deadline {cap:%Y-%m-%d} (the day before planned deployment {planned_deployment_date}), "
                f"sooner than now + {days} days"
            ),
        )
    return (
        default,
        DeadlineBasis.DEFAULT,
        (
            f"deadline {default:%Y-%m-%d %H:%M} UTC: now + {days} days, before planned deployment "
            f"{planned_deployment_date}"
        ),
    )
