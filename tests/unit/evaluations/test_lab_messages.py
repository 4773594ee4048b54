"""What labs are told (redacted requests), suspended labs, refused access, and unassignable domains as events."""

from __future__ import annotations

import pytest

from registry_contracts.events.evaluations import (
    EvaluationRequested,
    lab_consumer_group,
    lab_id_of_result_topic,
    lab_request_topic,
    lab_result_topic,
)
from services.evaluations.domain import (
    LAB_VISIBLE_FIELDS,
    LabExclusionReason,
    RejectionReason,
    RequestStatus,
    assess_access_refusal,
    lab_request_message,
)
from services.evaluations.handlers import plan_event

from .factories import lab, model, plan

pytestmark = pytest.mark.unit


def test_the_lab_payload_has_exactly_the_allowed_fields() -> None:
    request = plan(model_=model(model_name="Acme-1")).requests[0]
    payload = lab_request_message(request).model_dump(mode="json")
    assert set(payload) == LAB_VISIBLE_FIELDS == set(EvaluationRequested.model_fields)
    assert payload["model_name"] == "Acme-1" and payload["developer_legal_name"] == "Acme AI"
    assert payload["suite_ids"] == [s["suite_id"] for s in payload["suites"]]
    for suite in payload["suites"]:
        assert set(suite) == {"suite_id", "version", "name", "score_description", "score_min", "score_max",
                              "required_inputs"}  # fmt: skip
    assert "api_access" in payload["access_instructions"]


def test_a_lab_payload_never_carries_thresholds_or_confidential_compute() -> None:
    text = lab_request_message(plan().requests[0]).model_dump_json()
    for secret in ("concern_at", "fail_at", "flop", "parameters", "training_tokens", "affiliat", "lab_id"):
        assert secret not in text


def test_topic_names_and_groups_of_a_lab() -> None:
    assert lab_request_topic("acme-lab").name == "evaluations.requests.acme-lab.v1"
    assert lab_result_topic("acme-lab").name == "labs.acme-lab.results.v1"
    assert lab_consumer_group("acme-lab") == "lab-acme-lab"
    assert lab_id_of_result_topic("labs.acme-lab.results.v1") == "acme-lab"
    for other in ("labs.acme.lab.results.v1", "labs..results.v1", "evaluations.plans.v1", "labs.x.results.v2"):
        assert lab_id_of_result_topic(other) is None


def test_a_suspended_lab_takes_no_new_requests() -> None:
    suspended = lab("lab-a").suspend("audit findings")
    planned = plan(labs=(suspended, lab("lab-b")))
    assert {r.lab_id for r in planned.requests} == {"lab-b"}
    alone = plan(labs=(suspended,))
    assert not alone.requests
    reasons = {e.reason for u in alone.unassignable for e in u.exclusions}
    assert reasons == {LabExclusionReason.SUSPENDED}
    assert "audit findings" in alone.unassignable[0].reason
    assert suspended.reinstate() == lab("lab-a")


def test_no_eligible_lab_is_published_in_the_plan_event() -> None:
    planned = plan(labs=(lab("lab-a", affiliations=("Acme AI",)),))
    event = plan_event(planned)
    assert event.requests == []
    assert [u.domain for u in event.unassigned] == list(planned.required_domains)
    assert all("affiliat" in u.reason for u in event.unassigned)


def test_refused_access_is_accepted_only_from_the_assigned_lab_for_the_requested_version() -> None:
    request = plan().requests[0]
    fine = assess_access_refusal(request=request, lab_id=request.lab_id, registry_id=request.registry_id,
                                 model_version=request.model_version)  # fmt: skip
    assert fine is None
    wrong_lab = assess_access_refusal(request=request, lab_id="lab-z", registry_id=request.registry_id,
                                      model_version=request.model_version)  # fmt: skip
    assert wrong_lab is not None and wrong_lab[0] is RejectionReason.WRONG_LAB
    wrong_version = assess_access_refusal(request=request, lab_id=request.lab_id, registry_id=request.registry_id,
                                          model_version=2)  # fmt: skip
    assert wrong_version is not None and wrong_version[0] is RejectionReason.WRONG_VERSION
    closed = request.model_copy(update={"status": RequestStatus.ACCESS_REFUSED})
    again = assess_access_refusal(request=closed, lab_id=request.lab_id, registry_id=request.registry_id,
                                  model_version=request.model_version)  # fmt: skip
    assert again is not None and again[0] is RejectionReason.ACCESS_REFUSED
