"""One case per (model, rule): opening, adding breaches, and officer assignment and notes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.enforcement.domain import (
    SYSTEM_ACTOR,
    CaseStatus,
    EnforcementInputError,
    FilingKind,
    IncidentReported,
    LateFiling,
    RuleBreach,
    RuleId,
    TimelineKind,
    add_note,
    apply_breach,
    assign_officer,
    case_key,
    evaluate_trigger,
    key_of_case,
)
from services.plumbing.rule_profile import RuleProfile

from ._factories import NOW, REGISTRY_ID, make_case

pytestmark = pytest.mark.unit


def late_incident(profile: RuleProfile, *, days_late: int = 5, incident_id: str = "inc-1") -> RuleBreach:
    breach = evaluate_trigger(
        IncidentReported(
            registry_id=REGISTRY_ID,
            incident_id=incident_id,
            discovered_at=NOW - timedelta(days=15 + days_late),
            reported_at=NOW,
            imminent_risk=False,
        ),
        profile,
    )
    assert breach is not None
    return breach


class TestCaseKey:
    def test_key_is_model_and_rule(self, profile: RuleProfile) -> None:
        assert case_key(late_incident(profile)) == (REGISTRY_ID, "late_incident_report")

    def test_different_rules_on_one_model_have_different_keys(self, profile: RuleProfile) -> None:
        registration = evaluate_trigger(
            LateFiling(registry_id=REGISTRY_ID, filing_kind=FilingKind.REGISTRATION, anchor_at=NOW, filed_at=NOW),
            profile,
        )
        assert registration is not None
        assert case_key(registration) != case_key(late_incident(profile))


class TestApplyBreach:
    def test_first_breach_opens_a_case(self, profile: RuleProfile) -> None:
        breach = late_incident(profile)
        change = apply_breach(None, breach, NOW, new_case_id="case-77")
        case = change.case
        assert change.opened is True
        assert case.id == "case-77"
        assert case.status is CaseStatus.OPENED
        assert (case.model_key, case.rule, case.registry_id) == (
            REGISTRY_ID,
            RuleId.LATE_INCIDENT_REPORT,
            REGISTRY_ID,
        )
        assert case.opened_at == case.updated_at == NOW
        assert case.breach_count == 1
        assert case.first_breach_at == case.last_breach_at == breach.occurred_at
        assert case.profile_id == "baseline-2026-01"
        assert key_of_case(case) == case_key(breach)
        (entry,) = change.timeline
        assert entry.kind is TimelineKind.CASE_OPENED
        assert entry.actor == SYSTEM_ACTOR
        assert entry.to_status is CaseStatus.OPENED
        assert entry.details[: len(breach.reasons)] == breach.reasons
        assert "Reference: inc-1" in entry.details

    @pytest.mark.parametrize(
        "status", [s for s in CaseStatus if s is not CaseStatus.CLOSED], ids=lambda status: str(status)
    )
    def test_breach_on_open_case_updates_it_without_moving_it(self, profile: RuleProfile, status: CaseStatus) -> None:
        existing = make_case(status, rule=RuleId.LATE_INCIDENT_REPORT)
        breach = late_incident(profile, incident_id="inc-2")
        change = apply_breach(existing, breach, NOW, new_case_id="unused")
        assert change.opened is False
        assert change.case.id == existing.id
        assert change.case.status is status
        assert change.case.breach_count == 2
        assert change.case.last_breach_at == breach.occurred_at
        assert change.case.first_breach_at == existing.first_breach_at
        (entry,) = change.timeline
        assert entry.kind is TimelineKind.BREACH_RECORDED
        assert "breach 2 on this case" in entry.summary

    def test_older_breach_does_not_move_last_breach_back(self, profile: RuleProfile) -> None:
        existing = make_case(rule=RuleId.LATE_INCIDENT_REPORT, last_breach_at=NOW)
        change = apply_breach(existing, late_incident(profile), NOW, new_case_id="unused")
        assert change.case.last_breach_at == NOW

    def test_breach_after_closure_opens_a_new_case(self, profile: RuleProfile) -> None:
        closed = make_case(CaseStatus.CLOSED, rule=RuleId.LATE_INCIDENT_REPORT)
        change = apply_breach(closed, late_incident(profile), NOW, new_case_id="case-2")
        assert change.opened is True
        assert change.case.id == "case-2"
        assert change.case.breach_count == 1

    def test_mismatched_case_is_rejected(self, profile: RuleProfile) -> None:
        other_rule = make_case(rule=RuleId.COMPUTE_DISCREPANCY)
        with pytest.raises(EnforcementInputError, match="existing: case case-1 is for"):
            apply_breach(other_rule, late_incident(profile), NOW, new_case_id="x")

    def test_bad_inputs(self, profile: RuleProfile) -> None:
        with pytest.raises(EnforcementInputError, match="now: must be timezone-aware"):
            apply_breach(None, late_incident(profile), NOW.replace(tzinfo=None), new_case_id="x")
        with pytest.raises(EnforcementInputError, match="new_case_id"):
            apply_breach(None, late_incident(profile), NOW, new_case_id=" ")

    def test_an_officer_who_established_the_breach_is_its_actor(self, profile: RuleProfile) -> None:
        opened = apply_breach(None, late_incident(profile), NOW, new_case_id="case-9", actor="officer-ada")
        assert [e.actor for e in opened.timeline] == ["officer-ada"]
        added = apply_breach(
            opened.case, late_incident(profile, incident_id="inc-2"), NOW, new_case_id="x", actor="officer-bea"
        )
        assert [(e.kind, e.actor) for e in added.timeline] == [(TimelineKind.BREACH_RECORDED, "officer-bea")]
        with pytest.raises(EnforcementInputError, match="actor"):
            apply_breach(None, late_incident(profile), NOW, new_case_id="x", actor=" ")

    def test_inputs_are_not_mutated(self, profile: RuleProfile) -> None:
        existing = make_case(rule=RuleId.LATE_INCIDENT_REPORT)
        before = existing.model_dump()
        apply_breach(existing, late_incident(profile), NOW, new_case_id="x")
        assert existing.model_dump() == before


class TestOfficerOperations:
    def test_assign_and_reassign(self) -> None:
        first = assign_officer(make_case(), officer_id="officer-1", actor="lead-1", now=NOW)
        assert first.case.assigned_officer == "officer-1"
        assert first.timeline[0].kind is TimelineKind.OFFICER_ASSIGNED
        assert first.timeline[0].summary == "Assigned to officer-1."
        second = assign_officer(first.case, officer_id="officer-2", actor="lead-1", now=NOW)
        assert second.timeline[0].summary == "Assigned to officer-2 (previously officer-1)."
        assert second.case.status is CaseStatus.OPENED

    def test_assigning_the_same_officer_or_a_closed_case_fails(self) -> None:
        with pytest.raises(EnforcementInputError, match="already assigned to officer-1"):
            assign_officer(make_case(assigned_officer="officer-1"), officer_id="officer-1", actor="a", now=NOW)
        with pytest.raises(EnforcementInputError, match="closed"):
            assign_officer(make_case(CaseStatus.CLOSED), officer_id="officer-1", actor="a", now=NOW)
        with pytest.raises(EnforcementInputError, match="officer_id"):
            assign_officer(make_case(), officer_id="", actor="a", now=NOW)

    @pytest.mark.parametrize("status", list(CaseStatus), ids=lambda status: str(status))
    def test_notes_in_any_status(self, status: CaseStatus) -> None:
        change = add_note(make_case(status), actor="officer-1", text="Called the developer.", now=NOW)
        assert change.case.status is status
        assert change.case.updated_at == NOW
        assert change.timeline[0].kind is TimelineKind.NOTE_ADDED
        assert change.timeline[0].summary == "Called the developer."

    def test_empty_note_rejected(self) -> None:
        with pytest.raises(EnforcementInputError, match="text"):
            add_note(make_case(), actor="officer-1", text="   ", now=NOW)
