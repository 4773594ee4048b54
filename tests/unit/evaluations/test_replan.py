"""Amendments, incidents and replays: supersede stale requests, never duplicate a live one."""

from __future__ import annotations

import pytest

from services.evaluations.domain import PlanTrigger, RequestStatus, TriggerKind

from .factories import ALL_DOMAINS, NOW, lab, model, plan

pytestmark = pytest.mark.unit

AMENDMENT = PlanTrigger(kind=TriggerKind.SUBSTANTIAL_AMENDMENT)
INCIDENT = PlanTrigger(kind=TriggerKind.INCIDENT, reference="INC-42")


def test_amendment_supersedes_open_requests_of_the_older_version_and_requests_the_new_one() -> None:
    v1 = plan().requests
    result = plan(model_=model(version=2), trigger=AMENDMENT, existing=v1)
    assert {s.request_id for s in result.supersede} == {r.request_id for r in v1}
    assert all(s.model_version == 1 and "version 2 replaces version 1" in s.reason for s in result.supersede)
    assert [r.domain for r in result.requests] == list(ALL_DOMAINS)
    assert all(r.model_version == 2 for r in result.requests)
    assert not {r.request_id for r in result.requests} & {r.request_id for r in v1}


def test_completed_and_superseded_older_requests_are_left_alone() -> None:
    v1 = plan().requests
    existing = (
        v1[0].model_copy(update={"status": RequestStatus.COMPLETED}),
        v1[1].model_copy(update={"status": RequestStatus.SUPERSEDED}),
        *v1[2:],
    )
    result = plan(model_=model(version=2), trigger=AMENDMENT, existing=existing)
    assert [s.domain for s in result.supersede] == list(ALL_DOMAINS[2:])


def test_superseded_requests_free_their_lab_capacity_in_the_same_plan() -> None:
    only = (lab("lab-a", capacity=5),)
    v1 = plan(labs=only).requests
    # The store still counts v1's five open requests; superseding them makes room for v2.
    result = plan(model_=model(version=2), trigger=AMENDMENT, existing=v1, labs=only, open_load={"lab-a": 5})
    assert len(result.supersede) == 5
    assert len(result.requests) == 5 and result.unassignable == ()


def test_amendment_that_drops_the_tier_supersedes_without_new_requests() -> None:
    from registry_contracts import Tier

    v1 = plan().requests
    result = plan(model_=model(version=2, tier=Tier.BELOW), trigger=AMENDMENT, existing=v1)
    assert len(result.supersede) == 5 and result.requests == ()
    assert not result.is_empty


def test_incident_does_not_duplicate_a_domain_already_open_for_the_same_version() -> None:
    v1 = plan().requests
    open_chem = v1[0]
    existing = (open_chem, *(r.model_copy(update={"status": RequestStatus.COMPLETED}) for r in v1[1:]))
    result = plan(trigger=INCIDENT, existing=existing)
    assert [a.domain for a in result.already_requested] == ["chem_bio"]
    covered = result.already_requested[0]
    assert covered.existing_request_id == open_chem.request_id and covered.status is RequestStatus.OPEN
    assert "an open request for v1 already covers chem_bio (registration)" in covered.reason
    # Completed domains are re-evaluated: the incident is new evidence.
    assert [r.domain for r in result.requests] == list(ALL_DOMAINS[1:])
    assert result.supersede == ()
    assert all(r.trigger == INCIDENT for r in result.requests)


def test_two_incidents_on_one_version_get_distinct_requests() -> None:
    first = plan(trigger=INCIDENT)
    second = plan(trigger=PlanTrigger(kind="incident", reference="INC-43"))
    assert not {r.request_id for r in first.requests} & {r.request_id for r in second.requests}


def test_replayed_trigger_creates_nothing_new() -> None:
    first = plan()
    replay = plan(existing=first.requests, open_load={"lab-a": 3, "lab-b": 2})
    assert replay.requests == () and replay.unassignable == ()
    assert [a.existing_request_id for a in replay.already_requested] == [r.request_id for r in first.requests]
    assert all("replayed" in a.reason for a in replay.already_requested)


def test_replay_after_completion_still_creates_nothing() -> None:
    done = tuple(r.model_copy(update={"status": RequestStatus.COMPLETED}) for r in plan().requests)
    replay = plan(existing=done)
    assert replay.requests == ()
    assert {a.status for a in replay.already_requested} == {RequestStatus.COMPLETED}


def test_periodic_after_completion_requests_again() -> None:
    done = tuple(r.model_copy(update={"status": RequestStatus.COMPLETED}) for r in plan().requests)
    result = plan(trigger=PlanTrigger(kind="periodic", reference="2026-Q2"), existing=done)
    assert len(result.requests) == 5 and result.already_requested == ()


def test_stale_trigger_for_an_older_version_plans_nothing() -> None:
    v3 = plan(model_=model(version=3)).requests
    result = plan(model_=model(version=2), trigger=AMENDMENT, existing=v3)
    assert result.is_empty and result.required_domains == ()
    assert any("stale trigger: version 3 already has requests" in r for r in result.reasons)


def test_unassignable_domain_in_a_replan_keeps_its_future_request_id() -> None:
    v1 = plan().requests
    result = plan(model_=model(version=2), trigger=AMENDMENT, existing=v1, labs=())
    assert len(result.supersede) == 5
    assert len(result.unassignable) == 5
    retry = plan(model_=model(version=2), trigger=AMENDMENT, existing=v1, now=NOW)
    assert [u.request_id for u in result.unassignable] == [r.request_id for r in retry.requests]


def test_requests_and_plans_round_trip_through_json_for_the_store() -> None:
    from services.evaluations.domain import EvaluationPlan, EvaluationRequest

    first = plan(model_=model(planned_deployment_date=NOW.date().replace(day=20)))
    reloaded = tuple(EvaluationRequest.model_validate_json(r.model_dump_json()) for r in first.requests)
    assert reloaded == first.requests
    assert EvaluationPlan.model_validate_json(first.model_dump_json()) == first
    # Reloaded requests drive a replay exactly like the originals.
    assert plan(existing=reloaded).requests == ()
