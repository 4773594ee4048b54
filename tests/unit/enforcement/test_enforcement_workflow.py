"""The case workflow: exactly the mapped moves succeed, with the inputs and timeline each needs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.enforcement.domain import (
    ALLOWED_TRANSITIONS,
    CLOSING_RESOLUTIONS,
    AppealWindowClosed,
    Case,
    CaseChange,
    CaseStatus,
    DeadlineNotReached,
    DecisionOutcome,
    EnforcementInputError,
    IllegalTransition,
    ResolutionReason,
    TimelineEntry,
    TimelineKind,
    allowed_next_statuses,
    handle_response_deadline_passed,
    issue_notice,
    record_developer_response,
    transition,
)

from ._factories import NOW, make_case

pytestmark = pytest.mark.unit

S = CaseStatus
RESPONSE_DAYS = 30
APPEAL_DAYS = 28
AFTER_WINDOW = NOW + timedelta(days=11)  # past make_case's response deadline, inside its appeal window


def inputs_for(case: Case, target: CaseStatus) -> dict[str, Any]:
    """The extra keyword arguments a move to `target` needs."""
    if target is S.CLOSED:
        return {"resolution": sorted(CLOSING_RESOLUTIONS.get(case.status, {ResolutionReason.SANCTIONED}))[0]}
    if target is S.DECIDED:
        return {"decision": DecisionOutcome.BREACH_ESTABLISHED, "appeal_window_days": APPEAL_DAYS}
    if target is S.NOTICE_ISSUED:
        return {"developer_response_days": RESPONSE_DAYS}
    return {}


class TestTransitionMap:
    @pytest.mark.parametrize(
        ("source", "target"), list(itertools.product(CaseStatus, CaseStatus)), ids=lambda status: str(status)
    )
    def test_move_succeeds_iff_pair_is_in_the_map(self, source: CaseStatus, target: CaseStatus) -> None:
        case = make_case(source)
        kwargs = inputs_for(case, target)
        if target in ALLOWED_TRANSITIONS[source]:
            change = transition(case, target, actor="officer-1", reason="test", now=AFTER_WINDOW, **kwargs)
            assert change.case.status is target
            assert change.case.updated_at == AFTER_WINDOW
            (entry,) = change.timeline
            assert (entry.from_status, entry.to_status) == (source, target)
            assert entry.actor == "officer-1"
        else:
            with pytest.raises(IllegalTransition) as caught:
                transition(case, target, actor="officer-1", reason="test", now=AFTER_WINDOW, **kwargs)
            assert caught.value.allowed == tuple(sorted(ALLOWED_TRANSITIONS[source]))

    def test_every_status_has_an_exit_and_is_reachable(self) -> None:
        assert set(ALLOWED_TRANSITIONS) == set(CaseStatus)
        reachable = {S.OPENED}
        frontier = [S.OPENED]
        while frontier:
            for nxt in allowed_next_statuses(frontier.pop()):
                if nxt not in reachable:
                    reachable.add(nxt)
                    frontier.append(nxt)
        assert reachable == set(CaseStatus)
        assert all(ALLOWED_TRANSITIONS[status] for status in CaseStatus)

    def test_illegal_message_lists_allowed_statuses(self) -> None:
        with pytest.raises(IllegalTransition) as caught:
            transition(
                make_case(S.OPENED),
                S.DECIDED,
                actor="o",
                reason="r",
                now=NOW,
                decision=DecisionOutcome.BREACH_ESTABLISHED,
                appeal_window_days=APPEAL_DAYS,
            )
        assert str(caught.value) == (
            "case case-1: cannot move from opened to decided; allowed next statuses from opened: closed, triaged"
        )
        assert isinstance(caught.value, ValueError)

    @pytest.mark.parametrize(
        ("source", "target"),
        [
            (S.OPENED, S.NOTICE_ISSUED),
            (S.TRIAGED, S.DECIDED),
            (S.AWAITING_RESPONSE, S.DECIDED),
            (S.READY_FOR_DECISION, S.CLOSED),
            (S.APPEALED, S.CLOSED),
            (S.CLOSED, S.OPENED),
            (S.DECIDED, S.DECIDED),
        ],
    )
    def test_sample_of_illegal_moves(self, source: CaseStatus, target: CaseStatus) -> None:
        case = make_case(source)
        with pytest.raises(IllegalTransition, match=f"cannot move from {source} to {target}"):
            transition(case, target, actor="o", reason="r", now=AFTER_WINDOW, **inputs_for(case, target))

    def test_unknown_status_and_missing_inputs(self) -> None:
        with pytest.raises(EnforcementInputError, match="to_status: unknown status 'reopened'"):
            transition(make_case(), "reopened", actor="o", reason="r", now=NOW)
        with pytest.raises(EnforcementInputError, match="resolution: is required when closing"):
            transition(make_case(), S.CLOSED, actor="o", reason="r", now=NOW)
        with pytest.raises(EnforcementInputError, match="resolution"):
            transition(make_case(), S.TRIAGED, actor="o", reason="r", now=NOW, resolution=ResolutionReason.DUPLICATE)
        with pytest.raises(EnforcementInputError, match="developer_response_days: is required"):
            transition(make_case(S.TRIAGED), S.NOTICE_ISSUED, actor="o", reason="r", now=NOW)
        with pytest.raises(EnforcementInputError, match="appeal_window_days: is required"):
            transition(
                make_case(S.READY_FOR_DECISION),
                S.DECIDED,
                actor="o",
                reason="r",
                now=NOW,
                decision=DecisionOutcome.BREACH_ESTABLISHED,
            )
        with pytest.raises(EnforcementInputError, match="decision: unknown decision 'maybe'"):
            transition(
                make_case(S.READY_FOR_DECISION),
                S.DECIDED,
                actor="o",
                reason="r",
                now=NOW,
                decision="maybe",
                appeal_window_days=APPEAL_DAYS,
            )
        with pytest.raises(EnforcementInputError, match="actor"):
            transition(make_case(), S.TRIAGED, actor=" ", reason="r", now=NOW)
        with pytest.raises(EnforcementInputError, match="reason"):
            transition(make_case(), S.TRIAGED, actor="o", reason="", now=NOW)
        with pytest.raises(EnforcementInputError, match="now: must be timezone-aware"):
            transition(make_case(), S.TRIAGED, actor="o", reason="r", now=NOW.replace(tzinfo=None))

    @pytest.mark.parametrize("days", [0, -3, True])
    def test_bad_day_counts(self, days: int) -> None:
        with pytest.raises(EnforcementInputError, match="developer_response_days: must be a whole number"):
            issue_notice(make_case(S.TRIAGED), actor="o", reason="r", now=NOW, developer_response_days=days)

    def test_strings_are_accepted_for_enums(self) -> None:
        change = transition(make_case(), "closed", actor="o", reason="dup of case-9", now=NOW, resolution="duplicate")
        assert change.case.resolution is ResolutionReason.DUPLICATE


class TestNoticeAndResponse:
    def test_issuing_a_notice_sets_the_durable_deadline(self) -> None:
        change = issue_notice(
            make_case(S.TRIAGED),
            actor="officer-1",
            reason="Evidence is strong",
            now=NOW,
            developer_response_days=RESPONSE_DAYS,
        )
        due = NOW + timedelta(days=30)
        assert change.response_due_at == due
        assert change.case.response_due_at == due
        assert change.case.status is S.NOTICE_ISSUED
        assert change.timeline[0].kind is TimelineKind.NOTICE_ISSUED
        assert "Response window: 30 days." in change.timeline[0].details

    def test_only_notice_changes_carry_a_deadline(self) -> None:
        change = transition(make_case(), S.TRIAGED, actor="o", reason="r", now=NOW)
        assert change.response_due_at is None

    def test_no_decision_before_the_window_closes_without_a_response(self) -> None:
        case = make_case(S.AWAITING_RESPONSE)  # due NOW + 10 days
        with pytest.raises(IllegalTransition, match="the developer may respond until"):
            transition(case, S.READY_FOR_DECISION, actor="o", reason="r", now=NOW)

    @pytest.mark.parametrize("status", [S.NOTICE_ISSUED, S.AWAITING_RESPONSE])
    def test_response_on_time_makes_the_case_ready(self, status: CaseStatus) -> None:
        change = record_developer_response(make_case(status), actor="dev-acme", summary="We re-measured.", now=NOW)
        assert change.case.status is S.READY_FOR_DECISION
        (entry,) = change.timeline
        assert entry.kind is TimelineKind.RESPONSE_RECEIVED
        assert entry.summary == "The developer responded on time."
        assert "Response: We re-measured." in entry.details

    def test_response_after_the_deadline_fired_is_kept_and_marked_late(self) -> None:
        case = make_case(S.READY_FOR_DECISION, response_due_at=NOW - timedelta(days=1))
        change = record_developer_response(case, actor="dev-acme", summary="Sorry, late.", now=NOW)
        assert change.case.status is S.READY_FOR_DECISION
        assert change.timeline[0].summary.startswith("The developer responded after the deadline")

    @pytest.mark.parametrize("status", [S.OPENED, S.TRIAGED, S.DECIDED, S.APPEALED, S.CLOSED])
    def test_response_not_expected(self, status: CaseStatus) -> None:
        with pytest.raises(EnforcementInputError, match="a response is accepted only after a notice"):
            record_developer_response(make_case(status), actor="dev", summary="x", now=NOW)

    def test_deadline_passing_moves_case_to_ready_with_no_response_entry(self) -> None:
        case = make_case(S.AWAITING_RESPONSE)
        due = case.response_due_at
        assert due is not None
        change = handle_response_deadline_passed(case, now=due)
        assert change is not None
        assert change.case.status is S.READY_FOR_DECISION
        (entry,) = change.timeline
        assert entry.kind is TimelineKind.RESPONSE_DEADLINE_PASSED
        assert entry.summary.startswith(f"No response by {due.isoformat(timespec='minutes')}")
        assert entry.actor == "system"

    def test_deadline_after_a_response_or_twice_does_nothing(self) -> None:
        assert handle_response_deadline_passed(make_case(S.READY_FOR_DECISION), now=AFTER_WINDOW) is None
        assert handle_response_deadline_passed(make_case(S.CLOSED), now=AFTER_WINDOW) is None

    def test_deadline_called_early_is_an_error(self) -> None:
        with pytest.raises(DeadlineNotReached, match="has not passed"):
            handle_response_deadline_passed(make_case(S.NOTICE_ISSUED), now=NOW)
        with pytest.raises(EnforcementInputError, match="has no deadline"):
            handle_response_deadline_passed(make_case(S.NOTICE_ISSUED, response_due_at=None), now=NOW)


class TestDecisionAppealAndClosure:
    def test_decision_opens_the_appeal_window(self) -> None:
        change = transition(
            make_case(S.READY_FOR_DECISION),
            S.DECIDED,
            actor="officer-1",
            reason="Estimates agree",
            now=NOW,
            decision=DecisionOutcome.BREACH_ESTABLISHED,
            appeal_window_days=APPEAL_DAYS,
        )
        assert change.case.decision is DecisionOutcome.BREACH_ESTABLISHED
        assert change.case.decided_at == NOW
        assert change.case.appeal_deadline_at == NOW + timedelta(days=28)
        assert change.timeline[0].kind is TimelineKind.DECISION_RECORDED

    def test_appeal_within_window_from_closed_reopens_then_review_decides_again(self) -> None:
        closed = make_case(S.CLOSED)
        appealed = transition(closed, S.APPEALED, actor="dev-acme", reason="New evidence", now=NOW)
        assert appealed.case.status is S.APPEALED
        assert appealed.case.resolution is None and appealed.case.closed_at is None
        assert appealed.timeline[0].kind is TimelineKind.APPEAL_FILED
        reviewed = transition(
            appealed.case,
            S.DECIDED,
            actor="officer-9",
            reason="Evidence persuasive",
            now=NOW,
            decision=DecisionOutcome.BREACH_NOT_ESTABLISHED,
        )
        assert reviewed.case.decision is DecisionOutcome.BREACH_NOT_ESTABLISHED
        assert reviewed.case.appeal_deadline_at is None
        assert reviewed.timeline[0].kind is TimelineKind.APPEAL_DECIDED
        assert reviewed.timeline[0].summary == "Appeal reviewed: decision changed (breach_not_established)."
        with pytest.raises(AppealWindowClosed, match="already reviewed on appeal"):
            transition(reviewed.case, S.APPEALED, actor="dev-acme", reason="Again", now=NOW)

    def test_appeal_after_the_window_is_refused(self) -> None:
        case = make_case(S.DECIDED, appeal_deadline_at=NOW - timedelta(seconds=1))
        with pytest.raises(AppealWindowClosed, match="the appeal window closed on") as caught:
            transition(case, S.APPEALED, actor="dev", reason="late", now=NOW)
        assert isinstance(caught.value, IllegalTransition)

    def test_appeal_of_a_dismissed_case_is_refused(self) -> None:
        dismissed = make_case(
            S.CLOSED,
            decision=None,
            decided_at=None,
            appeal_deadline_at=None,
            resolution=ResolutionReason.DUPLICATE,
        )
        with pytest.raises(AppealWindowClosed, match="no decision to appeal"):
            transition(dismissed, S.APPEALED, actor="dev", reason="?", now=NOW)

    @pytest.mark.parametrize(
        ("source", "resolution", "ok"),
        [
            (S.OPENED, ResolutionReason.DUPLICATE, True),
            (S.TRIAGED, ResolutionReason.OUT_OF_SCOPE, True),
            (S.TRIAGED, ResolutionReason.SANCTIONED, False),
            (S.AWAITING_RESPONSE, ResolutionReason.REMEDIED, True),
            (S.NOTICE_ISSUED, ResolutionReason.DUPLICATE, False),
            (S.DECIDED, ResolutionReason.SANCTIONED, True),
            (S.DECIDED, ResolutionReason.BREACH_NOT_ESTABLISHED, False),  # decision was breach_established
            (S.DECIDED, ResolutionReason.REMEDIED, False),
        ],
    )
    def test_resolution_must_fit_the_status_and_decision(
        self, source: CaseStatus, resolution: ResolutionReason, ok: bool
    ) -> None:
        case = make_case(source)
        if ok:
            change = transition(case, S.CLOSED, actor="o", reason="r", now=NOW, resolution=resolution)
            assert change.case.resolution is resolution
            assert change.case.closed_at == NOW
            assert change.timeline[0].kind is TimelineKind.CASE_CLOSED
        else:
            with pytest.raises(EnforcementInputError, match=f"resolution: {resolution} cannot close"):
                transition(case, S.CLOSED, actor="o", reason="r", now=NOW, resolution=resolution)

    def test_not_established_decision_closes_only_as_not_established(self) -> None:
        case = make_case(S.DECIDED, decision=DecisionOutcome.BREACH_NOT_ESTABLISHED)
        change = transition(
            case, S.CLOSED, actor="o", reason="r", now=NOW, resolution=ResolutionReason.BREACH_NOT_ESTABLISHED
        )
        assert change.case.resolution is ResolutionReason.BREACH_NOT_ESTABLISHED

    def test_full_happy_path_builds_a_timeline(self) -> None:
        case = make_case(S.OPENED, response_due_at=None)
        timeline: list[TimelineEntry] = []
        steps: list[Callable[[Case], CaseChange | None]] = [
            lambda c: transition(c, S.TRIAGED, actor="o1", reason="Credible", now=NOW),
            lambda c: issue_notice(c, actor="o1", reason="Notice", now=NOW, developer_response_days=RESPONSE_DAYS),
            lambda c: transition(c, S.AWAITING_RESPONSE, actor="system", reason="Notice delivered", now=NOW),
            lambda c: handle_response_deadline_passed(c, now=NOW + timedelta(days=30)),
            lambda c: transition(
                c,
                S.DECIDED,
                actor="o1",
                reason="Established",
                now=NOW + timedelta(days=31),
                decision=DecisionOutcome.BREACH_ESTABLISHED,
                appeal_window_days=APPEAL_DAYS,
            ),
            lambda c: transition(
                c,
                S.CLOSED,
                actor="o1",
                reason="Penalty paid",
                now=NOW + timedelta(days=40),
                resolution=ResolutionReason.SANCTIONED,
            ),
        ]
        for step in steps:
            change = step(case)
            assert change is not None
            case = change.case
            timeline.extend(change.timeline)
        assert case.status is S.CLOSED
        assert [entry.kind for entry in timeline] == [
            TimelineKind.STATUS_CHANGED,
            TimelineKind.NOTICE_ISSUED,
            TimelineKind.STATUS_CHANGED,
            TimelineKind.RESPONSE_DEADLINE_PASSED,
            TimelineKind.DECISION_RECORDED,
            TimelineKind.CASE_CLOSED,
        ]
        assert [entry.to_status for entry in timeline] == [
            S.TRIAGED,
            S.NOTICE_ISSUED,
            S.AWAITING_RESPONSE,
            S.READY_FOR_DECISION,
            S.DECIDED,
            S.CLOSED,
        ]
