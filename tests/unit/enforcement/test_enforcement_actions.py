"""Actions: each is validated against the case and the model's earlier actions, and implies a standing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.enforcement.domain import (
    ActionKind,
    ActionNotAllowed,
    ActionTaken,
    CaseStatus,
    DecisionOutcome,
    EnforcementInputError,
    PenaltyAssessment,
    RuleId,
    Standing,
    TimelineKind,
    assess_eu_gpai_penalty,
    assess_per_day_penalty,
    assess_sb53_penalty,
    impose_penalty,
    issue_compliance_order,
    issue_warning,
    latest_suspension_state,
    reinstate_model,
    suspend_model,
)
from services.plumbing.rule_profile import RuleProfile

from ._factories import NOW, REGISTRY_ID, make_action, make_case

pytestmark = pytest.mark.unit

COMMON: dict[str, Any] = {
    "action_id": "act-9",
    "actor": "officer-1",
    "reason": "Breach established",
    "now": NOW,
}
DECIDED = make_case(CaseStatus.DECIDED)


class TestSanctionsNeedAnEstablishedBreach:
    @pytest.mark.parametrize(
        "case",
        [
            make_case(CaseStatus.OPENED),
            make_case(CaseStatus.READY_FOR_DECISION),
            make_case(CaseStatus.APPEALED),
            make_case(CaseStatus.CLOSED),
            make_case(CaseStatus.DECIDED, decision=DecisionOutcome.BREACH_NOT_ESTABLISHED),
        ],
        ids=["opened", "ready", "appealed", "closed", "not-established"],
    )
    def test_refused_without_established_decision(self, profile: RuleProfile, case: Any) -> None:
        assessment = assess_sb53_penalty(profile, violations=1)
        attempts = [
            lambda: issue_warning(case, **COMMON),
            lambda: issue_compliance_order(case, comply_by=NOW + timedelta(days=30), **COMMON),
            lambda: suspend_model(case, model_actions=[], effective_at=NOW, **COMMON),
            lambda: impose_penalty(case, assessment=assessment, amount=Decimal(1000), **COMMON),
        ]
        for attempt in attempts:
            with pytest.raises(ActionNotAllowed, match="needs a decided case with the breach established"):
                attempt()


class TestWarningAndOrder:
    def test_warning(self) -> None:
        change = issue_warning(DECIDED, **COMMON)
        action = change.action
        assert action is not None
        assert (action.kind, action.case_id, action.registry_id, action.rule) == (
            ActionKind.WARNING,
            "case-1",
            REGISTRY_ID,
            RuleId.COMPUTE_DISCREPANCY,
        )
        assert action.effective_at == action.taken_at == NOW
        assert action.implied_standing is None
        assert action.amount is None and action.currency is None
        assert change.timeline[0].kind is TimelineKind.ACTION_TAKEN
        assert change.case.status is CaseStatus.DECIDED
        assert change.case.updated_at == NOW

    def test_compliance_order_needs_a_future_date(self) -> None:
        change = issue_compliance_order(DECIDED, comply_by=NOW + timedelta(days=14), **COMMON)
        assert change.action is not None and change.action.comply_by == NOW + timedelta(days=14)
        with pytest.raises(EnforcementInputError, match=r"comply_by: .* is not after now"):
            issue_compliance_order(DECIDED, comply_by=NOW, **COMMON)
        with pytest.raises(EnforcementInputError, match="comply_by: must be timezone-aware"):
            issue_compliance_order(DECIDED, comply_by=NOW.replace(tzinfo=None), **COMMON)

    def test_blank_ids_rejected(self) -> None:
        with pytest.raises(EnforcementInputError, match="action_id"):
            issue_warning(DECIDED, **(COMMON | {"action_id": ""}))


class TestSuspension:
    def test_suspension_implies_suspended(self) -> None:
        change = suspend_model(DECIDED, model_actions=[], effective_at=NOW + timedelta(days=1), **COMMON)
        action = change.action
        assert action is not None
        assert action.kind is ActionKind.SUSPENSION
        assert action.implied_standing is Standing.SUSPENDED
        assert action.effective_at == NOW + timedelta(days=1)
        assert action.interim is False

    def test_second_suspension_refused(self) -> None:
        earlier = [make_action(ActionKind.SUSPENSION, action_id="act-1")]
        with pytest.raises(ActionNotAllowed, match="already suspended by action act-1"):
            suspend_model(DECIDED, model_actions=earlier, effective_at=NOW, **COMMON)

    def test_suspension_after_reinstatement_allowed(self) -> None:
        earlier = [
            make_action(ActionKind.SUSPENSION, action_id="a1", effective_at=NOW - timedelta(days=9)),
            make_action(ActionKind.REINSTATEMENT, action_id="a2", effective_at=NOW - timedelta(days=2)),
        ]
        change = suspend_model(DECIDED, model_actions=earlier, effective_at=NOW, **COMMON)
        assert change.action is not None

    def test_unregistered_model_cannot_be_suspended(self) -> None:
        case = make_case(
            CaseStatus.DECIDED,
            registry_id=None,
            model_key="unregistered:acme/orca",
            rule=RuleId.USED_UNREGISTERED,
        )
        with pytest.raises(ActionNotAllowed, match="is not registered"):
            suspend_model(case, model_actions=[], effective_at=NOW, **COMMON)

    def test_backdated_suspension_refused(self) -> None:
        with pytest.raises(EnforcementInputError, match=r"effective_at: .* is before now"):
            suspend_model(DECIDED, model_actions=[], effective_at=NOW - timedelta(hours=1), **COMMON)

    def test_interim_suspension_for_failed_evaluation(self) -> None:
        case = make_case(CaseStatus.TRIAGED, rule=RuleId.EVALUATION_FAILED)
        change = suspend_model(case, model_actions=[], effective_at=NOW, interim=True, **COMMON)
        assert change.action is not None and change.action.interim is True
        assert change.action.summary.startswith("Interim suspension")

    def test_interim_suspension_refused_for_other_rules_or_after_decision(self) -> None:
        with pytest.raises(ActionNotAllowed, match="does not allow an interim suspension"):
            suspend_model(
                make_case(CaseStatus.TRIAGED, rule=RuleId.LATE_REGISTRATION),
                model_actions=[],
                effective_at=NOW,
                interim=True,
                **COMMON,
            )
        decided = make_case(CaseStatus.DECIDED, rule=RuleId.EVALUATION_FAILED)
        with pytest.raises(ActionNotAllowed, match="only for open, undecided cases"):
            suspend_model(decided, model_actions=[], effective_at=NOW, interim=True, **COMMON)

    def test_actions_of_another_model_rejected(self) -> None:
        with pytest.raises(EnforcementInputError, match="model_actions: action x is on other"):
            suspend_model(
                DECIDED,
                model_actions=[make_action(ActionKind.WARNING, action_id="x", model_key="other")],
                effective_at=NOW,
                **COMMON,
            )


class TestReinstatement:
    def test_reinstatement_needs_a_suspension_in_force(self) -> None:
        with pytest.raises(ActionNotAllowed, match="reinstatement needs a prior suspension"):
            reinstate_model(DECIDED, model_actions=[], effective_at=NOW, **COMMON)
        lifted = [
            make_action(ActionKind.SUSPENSION, action_id="a1", effective_at=NOW - timedelta(days=9)),
            make_action(ActionKind.REINSTATEMENT, action_id="a2", effective_at=NOW - timedelta(days=2)),
        ]
        with pytest.raises(ActionNotAllowed, match="no suspension in force"):
            reinstate_model(DECIDED, model_actions=lifted, effective_at=NOW, **COMMON)

    def test_reinstatement_implies_good_standing_on_any_case_status(self) -> None:
        suspended = [make_action(ActionKind.SUSPENSION, action_id="a1")]
        case = make_case(CaseStatus.DECIDED, decision=DecisionOutcome.BREACH_NOT_ESTABLISHED)
        change = reinstate_model(case, model_actions=suspended, effective_at=NOW, **COMMON)
        assert change.action is not None
        assert change.action.kind is ActionKind.REINSTATEMENT
        assert change.action.implied_standing is Standing.REGISTERED_GOOD_STANDING
        assert "(lifts suspension a1)" in change.action.summary

    def test_reinstatement_before_a_future_suspension_starts_refused(self) -> None:
        future = [make_action(ActionKind.SUSPENSION, action_id="a1", effective_at=NOW + timedelta(days=5))]
        with pytest.raises(EnforcementInputError, match="before the suspension takes effect"):
            reinstate_model(DECIDED, model_actions=future, effective_at=NOW + timedelta(days=1), **COMMON)

    def test_latest_suspension_state_orders_by_effective_time(self) -> None:
        s1 = make_action(ActionKind.SUSPENSION, action_id="s1", effective_at=NOW - timedelta(days=5))
        r1 = make_action(ActionKind.REINSTATEMENT, action_id="r1", effective_at=NOW + timedelta(days=5))
        assert latest_suspension_state([r1, s1]) is None
        assert latest_suspension_state([r1, s1], as_of=NOW) == s1
        assert latest_suspension_state([make_action(ActionKind.PENALTY)]) is None


class TestPenalty:
    def test_penalty_within_the_maximum(self, profile: RuleProfile) -> None:
        assessment = assess_eu_gpai_penalty(profile, worldwide_turnover_eur=2_100_000_000)
        change = impose_penalty(DECIDED, assessment=assessment, amount=Decimal("40000000"), **COMMON)
        action = change.action
        assert action is not None
        assert (action.amount, action.currency, action.penalty_regime) == (
            Decimal(40_000_000),
            "EUR",
            "eu_gpai",
        )
        assert action.summary == f"Penalty of EUR 40M (eu_gpai) on the developer of {REGISTRY_ID}."
        assert change.timeline[0].details[-1].endswith("so the cap is EUR 63M")

    def test_exactly_the_maximum_is_allowed(self, profile: RuleProfile) -> None:
        assessment = assess_sb53_penalty(profile, violations=2)
        change = impose_penalty(DECIDED, assessment=assessment, amount=2_000_000, **COMMON)
        assert change.action is not None and change.action.amount == Decimal(2_000_000)

    @pytest.mark.parametrize("amount", [Decimal("2000000.01"), 3_000_000])
    def test_above_the_maximum_refused(self, profile: RuleProfile, amount: Decimal) -> None:
        assessment = assess_sb53_penalty(profile, violations=2)
        with pytest.raises(EnforcementInputError, match=r"amount: .* exceeds the sb53 maximum of \$2M"):
            impose_penalty(DECIDED, assessment=assessment, amount=amount, **COMMON)

    @pytest.mark.parametrize("amount", [0, -5, Decimal("NaN"), 1.5, True])
    def test_bad_amounts(self, profile: RuleProfile, amount: Any) -> None:
        with pytest.raises(EnforcementInputError, match="amount"):
            impose_penalty(DECIDED, assessment=assess_sb53_penalty(profile, violations=1), amount=amount, **COMMON)

    def test_zero_maximum_allows_no_penalty(self, profile: RuleProfile) -> None:
        nothing = assess_per_day_penalty(profile, notice_served_on=date(2026, 1, 1), assessed_through=date(2026, 1, 5))
        assert nothing.maximum_amount == 0
        with pytest.raises(ActionNotAllowed, match="allows no penalty"):
            impose_penalty(DECIDED, assessment=nothing, amount=1, **COMMON)

    def test_action_money_only_on_penalties(self) -> None:
        warning = make_action(ActionKind.WARNING).model_dump()
        with pytest.raises(ValueError, match="amount and currency are required on penalties"):
            ActionTaken.model_validate(warning | {"amount": 1, "currency": "USD"})
        penalty = make_action(ActionKind.PENALTY).model_dump()
        with pytest.raises(ValueError, match="amount and currency are required on penalties"):
            ActionTaken.model_validate(penalty | {"currency": None})

    def test_assessment_is_a_frozen_value(self, profile: RuleProfile) -> None:
        assessment = assess_sb53_penalty(profile, violations=1)
        assert isinstance(assessment, PenaltyAssessment)
        with pytest.raises(ValueError):
            assessment.maximum_amount = Decimal(5)  # type: ignore[misc]
