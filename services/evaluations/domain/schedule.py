"""Plans no event asks for: the periodic (quarterly) re-evaluation, and domains still waiting for a lab."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.plumbing.rule_profile import RuleProfile

from .errors import as_utc
from .planner import EvaluationPlan
from .requests import PlanTrigger, TriggerKind

# Plans that ask for every required domain of a version, so the periodic clock starts again from them.
FULL_PLAN_TRIGGERS = frozenset({TriggerKind.REGISTRATION, TriggerKind.SUBSTANTIAL_AMENDMENT, TriggerKind.PERIODIC})


def restarts_periodic_clock(plan: EvaluationPlan) -> bool:
    """Whether the model's next periodic re-evaluation counts from this plan."""
    return plan.trigger.kind in FULL_PLAN_TRIGGERS and bool(plan.required_domains)


def periodic_due_at(*, last_full_plan_at: datetime, profile: RuleProfile) -> datetime:
    """When the periodic re-evaluation after a full plan comes due (evaluation_periodic_days later)."""
    last = as_utc(last_full_plan_at, field="last_full_plan_at")
    return last + timedelta(days=profile.deadlines.evaluation_periodic_days)


def is_periodic_evaluation_due(*, last_evaluated_at: datetime | None, now: datetime, profile: RuleProfile) -> bool:
    """Whether the periodic re-evaluation is due: never evaluated, or evaluation_periodic_days elapsed."""
    current = as_utc(now, field="now")
    if last_evaluated_at is None:
        return True
    return current >= periodic_due_at(last_full_plan_at=last_evaluated_at, profile=profile)


def periodic_trigger(*, last_full_plan_at: datetime, profile: RuleProfile) -> PlanTrigger:
    """The trigger of the cycle due after `last_full_plan_at`; its reference names the cycle by its due day,
    so the same cycle planned twice yields the same request ids."""
    due = periodic_due_at(last_full_plan_at=last_full_plan_at, profile=profile)
    return PlanTrigger(kind=TriggerKind.PERIODIC, reference=f"cycle due {due:%Y-%m-%d}")
