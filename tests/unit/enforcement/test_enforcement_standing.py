"""Standing: what a third party sees, from registration, open cases and actions, with precedence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.enforcement.domain import (
    RULES,
    ActionKind,
    CaseStatus,
    DecisionOutcome,
    EnforcementInputError,
    RuleId,
    Standing,
    compute_standing,
)

from ._factories import NOW, REGISTRY_ID, make_action, make_case

pytestmark = pytest.mark.unit


class TestStanding:
    def test_clean_registered_model_is_in_good_standing(self) -> None:
        result = compute_standing(
            model_key=REGISTRY_ID, registered=True, withdrawn=False, cases=[], actions=[], as_of=NOW
        )
        assert result.standing is Standing.REGISTERED_GOOD_STANDING
        assert result.reasons[-1] == Standing.REGISTERED_GOOD_STANDING.description
        assert result.as_of == NOW

    def test_unregistered_is_unknown_whatever_else(self) -> None:
        result = compute_standing(
            model_key="unregistered:acme/orca",
            registered=False,
            withdrawn=False,
            cases=[make_case(model_key="unregistered:acme/orca", registry_id=None, rule=RuleId.DEPLOYED_UNREGISTERED)],
            actions=[],
            as_of=NOW,
        )
        assert result.standing is Standing.UNKNOWN

    @pytest.mark.parametrize("rule", list(RuleId), ids=str)
    def test_open_case_puts_under_review_only_for_listed_rules(self, rule: RuleId) -> None:
        result = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=False,
            cases=[make_case(CaseStatus.TRIAGED, rule=rule)],
            actions=[],
            as_of=NOW,
        )
        expected = Standing.UNDER_REVIEW if RULES[rule].puts_model_under_review else Standing.REGISTERED_GOOD_STANDING
        assert result.standing is expected
        assert result.cases_under_review == (("case-1",) if expected is Standing.UNDER_REVIEW else ())

    def test_closed_or_not_established_cases_do_not_count(self) -> None:
        cases = [
            make_case(CaseStatus.CLOSED, id="c1"),
            make_case(CaseStatus.DECIDED, id="c2", decision=DecisionOutcome.BREACH_NOT_ESTABLISHED),
        ]
        result = compute_standing(
            model_key=REGISTRY_ID, registered=True, withdrawn=False, cases=cases, actions=[], as_of=NOW
        )
        assert result.standing is Standing.REGISTERED_GOOD_STANDING

    def test_under_review_lists_every_case_oldest_first(self) -> None:
        cases = [
            make_case(CaseStatus.OPENED, id="c-new", rule=RuleId.FALSE_STATEMENT, opened_at=NOW),
            make_case(CaseStatus.APPEALED, id="c-old"),
        ]
        result = compute_standing(
            model_key=REGISTRY_ID, registered=True, withdrawn=False, cases=cases, actions=[], as_of=NOW
        )
        assert result.standing is Standing.UNDER_REVIEW
        assert result.cases_under_review == ("c-old", "c-new")
        assert result.reasons[0].startswith("Open case c-old (compute_discrepancy, appealed)")

    def test_suspension_beats_review_and_withdrawal(self) -> None:
        result = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=True,
            cases=[make_case(CaseStatus.DECIDED)],
            actions=[make_action(ActionKind.SUSPENSION, action_id="s1")],
            as_of=NOW,
        )
        assert result.standing is Standing.SUSPENDED
        assert result.suspension_action_id == "s1"
        assert "Suspended by action s1" in result.reasons[0]

    def test_withdrawn_beats_review(self) -> None:
        result = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=True,
            cases=[make_case(CaseStatus.OPENED)],
            actions=[],
            as_of=NOW,
        )
        assert result.standing is Standing.WITHDRAWN

    def test_reinstatement_ends_suspension_and_future_actions_wait(self) -> None:
        suspended = make_action(ActionKind.SUSPENSION, action_id="s1", effective_at=NOW - timedelta(days=9))
        reinstated = make_action(ActionKind.REINSTATEMENT, action_id="r1", effective_at=NOW - timedelta(days=1))
        result = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=False,
            cases=[],
            actions=[reinstated, suspended],
            as_of=NOW,
        )
        assert result.standing is Standing.REGISTERED_GOOD_STANDING
        future = make_action(ActionKind.SUSPENSION, action_id="s2", effective_at=NOW + timedelta(days=2))
        before = compute_standing(
            model_key=REGISTRY_ID, registered=True, withdrawn=False, cases=[], actions=[future], as_of=NOW
        )
        after = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=False,
            cases=[],
            actions=[future],
            as_of=NOW + timedelta(days=2),
        )
        assert (before.standing, after.standing) == (Standing.REGISTERED_GOOD_STANDING, Standing.SUSPENDED)

    def test_same_time_tie_broken_by_when_taken(self) -> None:
        suspended = make_action(ActionKind.SUSPENSION, action_id="s1", effective_at=NOW, taken_at=NOW)
        reinstated = make_action(
            ActionKind.REINSTATEMENT, action_id="r1", effective_at=NOW, taken_at=NOW + timedelta(minutes=1)
        )
        result = compute_standing(
            model_key=REGISTRY_ID,
            registered=True,
            withdrawn=False,
            cases=[],
            actions=[reinstated, suspended],
            as_of=NOW + timedelta(minutes=1),
        )
        assert result.standing is Standing.REGISTERED_GOOD_STANDING

    def test_other_models_data_rejected(self) -> None:
        with pytest.raises(EnforcementInputError, match="cases: case case-1 is on other"):
            compute_standing(
                model_key=REGISTRY_ID,
                registered=True,
                withdrawn=False,
                cases=[make_case(model_key="other")],
                actions=[],
                as_of=NOW,
            )
        with pytest.raises(EnforcementInputError, match="actions: action a is on other"):
            compute_standing(
                model_key=REGISTRY_ID,
                registered=True,
                withdrawn=False,
                cases=[],
                actions=[make_action(ActionKind.WARNING, action_id="a", model_key="other")],
                as_of=NOW,
            )
        with pytest.raises(EnforcementInputError, match="as_of"):
            compute_standing(
                model_key=REGISTRY_ID,
                registered=True,
                withdrawn=False,
                cases=[],
                actions=[],
                as_of=NOW.replace(tzinfo=None),
            )

    def test_every_standing_has_a_description(self) -> None:
        assert {s.value for s in Standing} == {
            "registered_good_standing",
            "under_review",
            "suspended",
            "withdrawn",
            "unknown",
        }
        assert all(s.description for s in Standing)
