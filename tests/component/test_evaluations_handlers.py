"""Evaluations' handlers on the real database: each delivered twice has one effect; lab payloads are redacted."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import Envelope, new_envelope
from registry_contracts.events.evaluations import EvaluationResultSubmitted
from registry_contracts.events.intake import IncidentReported
from services.evaluations.app import create_app
from services.evaluations.domain import LAB_VISIBLE_FIELDS
from services.evaluations.jobs import lab_result_consumer, report_overdue_once
from services.evaluations.settings import EvaluationsSettings
from services.plumbing.inbox import Disposition
from services.plumbing.service import ServiceState
from tests.component.evaluations_support import (
    fresh_lab_id,
    fresh_registry_id,
    lab_body,
    message,
    outbox,
    rows,
    verified_message,
)
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component
CONFIDENTIAL = {"developer", "compute", "declared_training_flop", "parameters", "training_tokens", "affiliations"}


@pytest.fixture(scope="module")
async def service(infra: Infrastructure) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(service_settings(EvaluationsSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        lab_id = fresh_lab_id()
        (await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=bearer("admin"))).raise_for_status()
        yield app, client


def _state(app: FastAPI) -> ServiceState:
    state: ServiceState = app.state.service
    return state


async def _twice(app: FastAPI, incoming: Any) -> None:
    consumer = _state(app).consumer
    assert consumer is not None
    assert await consumer.process(incoming) is Disposition.PROCESSED
    assert await consumer.process(incoming) is Disposition.DUPLICATE


async def _requests(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    return await rows(
        _state(app).settings.database_url,
        "SELECT request_id, lab_id, domain, version, status FROM evaluation_requests WHERE registry_id = $1"
        " ORDER BY domain",
        registry_id,
    )


async def test_verified_twice_one_plan_and_one_redacted_request_per_lab_topic(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    database = _state(app).settings.database_url
    requests = await _requests(app, registry_id)
    assert len(requests) == 5
    plans = await outbox(database, registry_id, "evaluations.plans.v1")
    assert len(plans) == 1
    lab_messages = await outbox(database, registry_id, "evaluations.requests.%")
    assert sorted(m["topic"] for m in lab_messages) == sorted(
        f"evaluations.requests.{r['lab_id']}.v1" for r in requests
    )
    for sent in lab_messages:
        data = sent["payload"]["data"]
        assert set(data) == LAB_VISIBLE_FIELDS  # exactly the allowed fields, never a confidential one
        assert not CONFIDENTIAL & set(data)
        assert data["model_name"] == f"model-{registry_id}"
        assert all("concern_at" not in s and "fail_at" not in s for s in data["suites"])


async def test_an_amendment_supersedes_the_old_versions_requests(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    await _twice(app, verified_message(registry_id, version=2, trigger="amendment"))
    requests = await _requests(app, registry_id)
    assert sorted((r["version"], r["status"]) for r in requests) == [(1, "superseded")] * 5 + [(2, "open")] * 5
    plans = await outbox(_state(app).settings.database_url, registry_id, "evaluations.plans.v1")
    assert [p["payload"]["data"]["version"] for p in plans] == [1, 2]


async def test_an_incident_twice_re_plans_completed_domains_once(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    first = (await _requests(app, registry_id))[0]
    await _submit(app, first, {})  # completes one domain, so the incident re-requests that one
    incident = IncidentReported(
        registry_id=registry_id,
        incident_id=f"INC-{uuid.uuid4().hex[:6]}",
        category="misuse",
        imminent_risk=False,
        discovered_at=datetime.now(UTC),
        reported_at=datetime.now(UTC),
        rule_profile_id="baseline-2026-01",
    )
    await _twice(app, message(new_envelope(incident, subject=registry_id), "intake.filings.v1"))
    requests = await _requests(app, registry_id)
    assert len(requests) == 6
    again = [r for r in requests if r["domain"] == first["domain"] and r["status"] == "open"]
    assert len(again) == 1 and again[0]["request_id"] != first["request_id"]


async def test_an_incident_before_verification_is_planned_when_the_model_is_verified(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    incident = IncidentReported(
        registry_id=registry_id,
        incident_id="INC-early",
        category="misuse",
        imminent_risk=True,
        discovered_at=datetime.now(UTC),
        reported_at=datetime.now(UTC),
        rule_profile_id="baseline-2026-01",
    )
    await _twice(app, message(new_envelope(incident, subject=registry_id), "intake.filings.v1"))
    assert await _requests(app, registry_id) == []
    await _twice(app, verified_message(registry_id))
    plans = await outbox(_state(app).settings.database_url, registry_id, "evaluations.plans.v1")
    assert len(plans) == 2  # registration, then the pending incident (its domains already open: nothing new)
    assert len(await _requests(app, registry_id)) == 5


def _result(request: dict[str, Any], registry_id: str, **overrides: Any) -> Envelope[EvaluationResultSubmitted]:
    scores = overrides.pop("suite_scores", None)
    result = EvaluationResultSubmitted(
        request_id=request["request_id"],
        lab_id=overrides.pop("lab_id", request["lab_id"]),
        registry_id=registry_id,
        version=overrides.pop("version", request["version"]),
        suite_scores=scores if scores is not None else {},
        submitted_at=datetime.now(UTC),
        **overrides,
    )
    return new_envelope(result, subject=registry_id)


async def _suite_ids(app: FastAPI, request_id: str) -> list[str]:
    found = await rows(
        _state(app).settings.database_url,
        "SELECT jsonb_path_query_array(request, '$.suites[*].id') AS ids FROM evaluation_requests"
        " WHERE request_id = $1",
        request_id,
    )
    return list(json.loads(found[0]["ids"]))


async def _submit(app: FastAPI, request: dict[str, Any], overrides: dict[str, Any], *, on_lab: str = "") -> Any:
    registry_id = (
        await rows(
            _state(app).settings.database_url,
            "SELECT registry_id FROM evaluation_requests WHERE request_id = $1",
            request["request_id"],
        )
    )[0]["registry_id"]
    if "suite_scores" not in overrides and not overrides.get("access_refused"):
        overrides["suite_scores"] = {s: 0.0 for s in await _suite_ids(app, request["request_id"])}
    envelope = _result(request, registry_id, **overrides)
    lab = on_lab or request["lab_id"]
    incoming = message(envelope, f"labs.{lab}.results.v1")
    consumer = lab_result_consumer(_state(app), lab)
    first = await consumer.process(incoming)
    second = await consumer.process(incoming)
    return envelope, first, second


async def test_a_result_delivered_twice_completes_once(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    _, first, second = await _submit(app, request, {})
    assert (first, second) == (Disposition.PROCESSED, Disposition.DUPLICATE)
    completed = await outbox(_state(app).settings.database_url, registry_id, "evaluations.outcomes.v1")
    assert [c["payload"]["type"] for c in completed] == ["registry.evaluations.EvaluationCompleted.v1"]
    data = completed[0]["payload"]["data"]
    assert data["request_id"] == request["request_id"] and data["domain"]["domain"] == request["domain"]
    assert data["late"] is False and data["overall"] == data["domain"]["verdict"]
    assert (await _requests(app, registry_id))[0]["status"] == "completed"


async def test_a_second_result_for_a_completed_request_is_refused_as_duplicate(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    await _submit(app, request, {})
    again, _, _ = await _submit(app, request, {})
    stored = await rows(
        _state(app).settings.database_url, "SELECT accepted, rejection FROM lab_submissions WHERE submission_id = $1",
        again.id,
    )  # fmt: skip
    assert stored == [{"accepted": False, "rejection": "duplicate"}]
    assert len(await outbox(_state(app).settings.database_url, registry_id, "evaluations.outcomes.v1")) == 1


async def test_a_result_on_another_labs_topic_or_for_another_version_is_refused(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    intruder = fresh_lab_id("intruder")
    foreign, _, _ = await _submit(app, request, {"lab_id": intruder}, on_lab=intruder)
    impostor, _, _ = await _submit(app, request, {}, on_lab=intruder)  # payload claims the assigned lab
    wrong_version, _, _ = await _submit(app, request, {"version": 7})
    database = _state(app).settings.database_url
    verdicts = {
        r["submission_id"]: r["rejection"]
        for r in await rows(database, "SELECT submission_id, rejection FROM lab_submissions WHERE request_id = $1",
                            request["request_id"])
    }  # fmt: skip
    assert verdicts == {foreign.id: "wrong_lab", impostor.id: "wrong_lab", wrong_version.id: "wrong_version"}
    assert await outbox(database, registry_id, "evaluations.outcomes.v1") == []
    assert (await _requests(app, registry_id))[0]["status"] == "open"


async def test_a_late_result_is_accepted_and_marked_late(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    await _set_deadline(app, request["request_id"], datetime.now(UTC) - timedelta(days=2))
    await _submit(app, request, {})
    completed = await outbox(_state(app).settings.database_url, registry_id, "evaluations.outcomes.v1")
    assert [c["payload"]["data"]["late"] for c in completed] == [True]


async def test_refused_access_is_published_once(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    await _submit(app, request, {"access_refused": True, "notes": "no API key was ever issued"})
    outcomes = await outbox(_state(app).settings.database_url, registry_id, "evaluations.outcomes.v1")
    assert [o["payload"]["type"] for o in outcomes] == ["registry.evaluations.EvaluationAccessRefused.v1"]
    assert outcomes[0]["payload"]["data"]["detail"] == "no API key was ever issued"
    assert (await _requests(app, registry_id))[0]["status"] == "access_refused"


async def _set_deadline(app: FastAPI, request_id: str, deadline: datetime) -> None:
    await rows(
        _state(app).settings.database_url,
        "UPDATE evaluation_requests SET deadline = $2,"
        " request = jsonb_set(request, '{deadline}', to_jsonb($3::text)) WHERE request_id = $1 RETURNING 1",
        request_id,
        deadline,
        deadline.isoformat(),
    )


async def test_an_overdue_request_is_reported_once(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _twice(app, verified_message(registry_id))
    request = (await _requests(app, registry_id))[0]
    await _set_deadline(app, request["request_id"], datetime.now(UTC) - timedelta(hours=1))
    await report_overdue_once(_state(app))
    await report_overdue_once(_state(app))
    missed = await outbox(_state(app).settings.database_url, registry_id, "evaluations.outcomes.v1")
    assert [m["payload"]["data"]["request_id"] for m in missed] == [request["request_id"]]
    assert missed[0]["payload"]["type"] == "registry.evaluations.EvaluationDeadlineMissed.v1"
