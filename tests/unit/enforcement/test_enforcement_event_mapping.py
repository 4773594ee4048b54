"""Each consumed event maps onto the domain trigger (and so the rule) it should; no I/O."""

from __future__ import annotations

import pytest

from registry_contracts.events.evaluations import EvaluationVerdict
from registry_contracts.events.intake import FilingKind
from services.enforcement.domain import RuleId, evaluate_trigger
from services.enforcement.handlers import (
    judge_access_refused,
    judge_compute_verified,
    judge_deadline_missed,
    judge_evaluation,
    judge_incident,
    judge_late_filing,
    judge_usage,
)
from services.plumbing.rule_profile import load_rule_profile
from tests.component import enforcement_support as ev

pytestmark = pytest.mark.unit
PROFILE = load_rule_profile("baseline-2026-01")
RID = "FMR-2026-000042"

CASES = [
    (judge_late_filing, ev.late_filing(RID, FilingKind.TRAINING_NOTICE), RuleId.LATE_TRAINING_NOTICE),
    (judge_late_filing, ev.late_filing(RID, FilingKind.REGISTRATION), RuleId.LATE_REGISTRATION),
    (judge_late_filing, ev.late_filing(RID, FilingKind.REGISTRATION, days_late=-3), None),  # on time after all
    (judge_late_filing, ev.late_filing(RID, FilingKind.INCIDENT_REPORT), None),  # judged from IncidentReported
    (judge_incident, ev.incident(RID), RuleId.LATE_INCIDENT_REPORT),
    (judge_incident, ev.incident(RID, days_after_discovery=2, imminent=True), RuleId.LATE_INCIDENT_REPORT),
    (judge_incident, ev.incident(RID, days_after_discovery=2), None),
    (judge_usage, ev.usage(), RuleId.USED_UNREGISTERED),
    (judge_usage, ev.usage(source="unknown_lookup"), RuleId.USED_UNREGISTERED),
    (judge_usage, ev.usage(registered=True), None),
    (judge_compute_verified, ev.compute_verified(RID), RuleId.COMPUTE_DISCREPANCY),
    (judge_evaluation, ev.evaluation(RID, EvaluationVerdict.FAIL), RuleId.EVALUATION_FAILED),
    (judge_evaluation, ev.evaluation(RID, EvaluationVerdict.CONCERN), RuleId.EVALUATION_CONCERN),
    (judge_evaluation, ev.evaluation(RID, EvaluationVerdict.PASS), None),
    (judge_deadline_missed, ev.deadline_missed(RID), RuleId.EVALUATION_OVERDUE),
    (judge_access_refused, ev.access_refused(RID), RuleId.EVALUATION_REFUSED),
]


@pytest.mark.parametrize(("judge", "event", "rule"), CASES, ids=lambda v: getattr(v, "__name__", None))
def test_event_maps_to_its_rule(judge, event, rule) -> None:  # type: ignore[no-untyped-def]
    judgement = judge(event, PROFILE)
    breach = evaluate_trigger(judgement.trigger, PROFILE) if judgement.trigger is not None else None
    assert (breach.rule if breach else None) == rule
    if judgement.trigger is None:
        assert judgement.no_trigger_reason


def test_unregistered_use_is_keyed_like_intake_keys_it() -> None:
    report = ev.usage(name="Shadow  Model")
    breach = evaluate_trigger(judge_usage(report, PROFILE).trigger, PROFILE)  # type: ignore[arg-type]
    assert breach is not None and breach.model_key == "unregistered:shadow ai inc/shadow model"


def test_an_evaluation_is_judged_on_its_own_domain_not_the_overall_verdict() -> None:
    event = ev.evaluation(RID, EvaluationVerdict.PASS).model_copy(update={"overall": EvaluationVerdict.FAIL})
    trigger = judge_evaluation(event, PROFILE).trigger
    assert trigger is not None and evaluate_trigger(trigger, PROFILE) is None
