"""An officer's false-statement finding (POST /v1/findings/false-statements and the desk's form) goes the way a
rule's trigger from an event goes: it opens the model's false_statement case once, later findings add to it, a
retried request has one effect, and each is in the decisions, the outbox and the audit log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI, Request

from devstack import Infrastructure
from services.enforcement.app import create_app
from services.enforcement.desk import csrf_token
from services.enforcement.settings import EnforcementSettings
from services.plumbing.service import ServiceState
from tests.component import enforcement_support as ev
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component
OFFICER = bearer("officer", subject="officer-ada")
ANALYST = bearer("analyst")
URL = "/v1/findings/false-statements"


@pytest.fixture(scope="module")
async def app(infra: Infrastructure) -> AsyncIterator[FastAPI]:
    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        app.state.test_client = client
        yield app


@pytest.fixture
def service(app: FastAPI) -> tuple[ServiceState, httpx.AsyncClient]:
    client: httpx.AsyncClient = app.state.test_client
    client.headers.update(OFFICER)
    return app.state.service, client


async def _registered(state: ServiceState) -> str:
    rid = ev.registry_id()
    await ev.deliver(state, ev.wrap(ev.registration(rid)))
    return rid


def _finding(rid: str, **overrides: Any) -> dict[str, Any]:
    return {
        "registry_id": rid,
        "version": 1,
        "statement_field": "compute.training_tokens",
        "finding": "The provider's attestation shows three times the declared training tokens.",
    } | overrides


async def _audit(client: httpx.AsyncClient, subject: str) -> list[tuple[str, str]]:
    entries = (await client.get("/v1/audit", params={"subject": subject}, headers=ANALYST)).json()
    return [(e["action"], e["actor"]) for e in reversed(entries)]


async def test_an_officer_opens_a_false_statement_case(service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    response = await client.post(URL, json=_finding(rid))
    assert response.status_code == 201, response.text
    body = response.json()
    case = body["case"]
    assert response.headers["Location"] == f"/v1/cases/{case['case_id']}"
    assert response.headers["ETag"] == '"1"' and "Idempotent-Replayed" not in response.headers
    assert (body["decision"], body["replayed"]) == ("case_opened", False)
    assert (case["rule"], case["status"], case["breach_count"], case["registry_id"]) == (
        "false_statement",
        "opened",
        1,
        rid,
    )
    assert case["allowed_next_statuses"] == ["closed", "triaged"]
    (opening,) = case["timeline"]
    assert (opening["kind"], opening["actor"]) == ("case_opened", "officer-ada")  # the officer, not "system"
    assert any("found false by officer-ada" in line for line in opening["details"])
    assert f"Reference: {body['finding_id']}" in opening["details"]
    (evidence,) = case["evidence"]
    assert evidence["event_type"] == "FalseStatementFound"
    assert evidence["facts"]["found_by"] == "officer-ada"
    assert evidence["facts"]["statement_field"] == "compute.training_tokens"
    assert evidence["facts"]["finding_id"] == body["finding_id"]
    # The same GET an officer makes afterwards
    assert (await client.get(response.headers["Location"])).json()["case_id"] == case["case_id"]

    decisions = (await client.get(f"/v1/decisions/{rid}")).json()
    assert [(d["decision"], d["rule"], d["case_id"], d["source_event_id"]) for d in decisions] == [
        ("case_opened", "false_statement", case["case_id"], body["finding_id"])
    ]
    (opened,) = await ev.published(state, rid, "CaseOpened")
    assert (opened["rule"], opened["evidence_event_id"]) == ("false_statement", body["finding_id"])
    # A false statement questions the record: the model is under review while the case is open.
    assert [s["standing"] for s in await ev.published(state, rid, "StandingChanged")] == ["under_review"]
    assert case["standing"] == "under_review"
    assert await _audit(client, case["case_id"]) == [("decision.case_opened", "officer-ada")]
    (logged,) = (await client.get("/v1/audit", params={"subject": rid}, headers=ANALYST)).json()
    assert (logged["action"], logged["actor"]) == ("finding.false_statement", "officer-ada")
    assert logged["detail"]["finding_id"] == body["finding_id"]
    assert logged["detail"]["statement_field"] == "compute.training_tokens"
    assert (logged["detail"]["case_id"], logged["detail"]["decision"]) == (case["case_id"], "case_opened")


async def test_a_second_finding_on_the_same_model_updates_the_open_case(service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    first = await client.post(URL, json=_finding(rid))
    assert first.status_code == 201
    other_officer = bearer("officer", subject="officer-bea")
    second = await client.post(
        URL,
        json=_finding(rid, statement_field="developer.country", finding="Incorporated in NL, not GB."),
        headers=other_officer,
    )
    assert second.status_code == 200, second.text
    assert "Location" not in second.headers
    body = second.json()
    case = body["case"]
    assert body["decision"] == "case_updated" and body["finding_id"] != first.json()["finding_id"]
    assert case["case_id"] == first.json()["case"]["case_id"]
    assert (case["breach_count"], case["row_version"]) == (2, 2)
    assert second.headers["ETag"] == '"2"'
    assert [(e["kind"], e["actor"]) for e in case["timeline"]] == [
        ("case_opened", "officer-ada"),
        ("breach_recorded", "officer-bea"),
    ]
    assert "developer.country" in case["timeline"][1]["summary"]
    assert len(case["evidence"]) == 2
    assert [c["case_id"] for c in (await client.get("/v1/cases", params={"registry_id": rid})).json()] == [
        case["case_id"]
    ]
    assert len(await ev.published(state, rid, "CaseOpened")) == 1
    assert [d["decision"] for d in (await client.get(f"/v1/decisions/{rid}")).json()] == [
        "case_opened",
        "case_updated",
    ]
    assert await _audit(client, case["case_id"]) == [
        ("decision.case_opened", "officer-ada"),
        ("decision.evidence_added", "officer-bea"),
    ]


async def test_a_retried_finding_has_one_effect(service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    first = await client.post(URL, json=_finding(rid))
    assert first.status_code == 201
    # Retried after a lost answer, and twice at once: the same answer, nothing added.
    retries = [await client.post(URL, json=_finding(rid, finding=f"  {_finding(rid)['finding']} "))]
    retries += await asyncio.gather(*(client.post(URL, json=_finding(rid)) for _ in range(2)))
    for retry in retries:
        assert retry.status_code == 201, retry.text
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.headers["Location"] == first.headers["Location"]
        assert (retry.json()["finding_id"], retry.json()["replayed"]) == (first.json()["finding_id"], True)
    case = retries[-1].json()["case"]
    assert (case["breach_count"], len(case["timeline"]), len(case["evidence"]), case["row_version"]) == (1, 1, 1, 1)
    assert len((await client.get(f"/v1/decisions/{rid}")).json()) == 1
    assert len(await ev.published(state, rid, "CaseOpened")) == 1
    assert await _audit(client, case["case_id"]) == [("decision.case_opened", "officer-ada")]
    assert len(await _audit(client, rid)) == 1

    # Two different findings at once on a model without a case: one opens it, the other adds to it.
    other = await _registered(state)
    both = await asyncio.gather(
        client.post(URL, json=_finding(other)), client.post(URL, json=_finding(other, statement_field="model_name"))
    )
    assert sorted(r.status_code for r in both) == [200, 201], [r.text for r in both]
    (only,) = (await client.get("/v1/cases", params={"registry_id": other})).json()
    assert only["breach_count"] == 2


async def test_only_officers_and_admins_record_findings(service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    for role, extra in [("registrant", {"org": "acme-ai"}), ("lab", {"lab": "lab-alpha"}), ("analyst", {})]:
        refused = await client.post(URL, json=_finding(rid), headers=bearer(role, **extra))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"] == "application/problem+json"
        assert "admin, officer" in refused.json()["detail"]
    anonymous = await client.post(URL, json=_finding(rid), headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert (await client.get("/v1/cases", params={"registry_id": rid})).json() == []
    admin = await client.post(URL, json=_finding(rid), headers=bearer("admin", subject="admin-cy"))
    assert admin.status_code == 201
    assert admin.json()["case"]["timeline"][0]["actor"] == "admin-cy"


async def test_bad_findings_are_refused_naming_what_is_wrong(service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    response = await client.post(URL, json={"registry_id": rid, "version": 0, "statement_field": " "})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"version", "statement_field", "finding"}
    forged = await client.post(URL, json=_finding(rid, found_by="officer-someone-else"))
    assert forged.status_code == 422  # who found it is the caller, never the body
    assert [e["field"] for e in forged.json()["errors"]] == ["found_by"]
    nul = await client.post(URL, json=_finding(rid, finding="false\u0000"))
    assert nul.status_code == 422 and [e["field"] for e in nul.json()["errors"]] == ["finding"]
    unknown_id = ev.registry_id()
    unknown = await client.post(URL, json=_finding(unknown_id))
    assert unknown.status_code == 422
    problem = unknown.json()
    assert problem["errors"][0]["field"] == "registry_id"
    assert f"enforcement has no record of {unknown_id}" in problem["detail"]
    for registry_id in (rid, unknown_id):
        assert (await client.get("/v1/cases", params={"registry_id": registry_id})).json() == []
        assert (await client.get(f"/v1/decisions/{registry_id}")).json() == []


async def test_a_model_known_only_from_an_event_about_it_is_known(service: Any) -> None:
    state, client = service
    rid = ev.registry_id()  # its evaluation overtook its registration
    await ev.deliver(state, ev.wrap(ev.deadline_missed(rid)))
    assert (await client.post(URL, json=_finding(rid))).status_code == 201


@asynccontextmanager
async def _desk(app: FastAPI, role: str, subject: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A desk session (its own cookie jar) signed in as `role`, and the CSRF token of the queue page."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as desk:
        token = bearer(role, subject=subject)["Authorization"].removeprefix("Bearer ")
        form = (await desk.get("/desk/login")).text
        login_csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
        assert login_csrf is not None
        signed_in = await desk.post(
            "/desk/login", data={"token": token, "next": "/desk/cases", "csrf": login_csrf.group(1)}
        )
        assert signed_in.status_code == 303
        page = await desk.get("/desk/cases")
        assert page.status_code == 200
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        # Analysts get no forms, so no token on the page: the one their session would have, to show the refusal.
        yield desk, match.group(1) if match else csrf_token(cast(Request, SimpleNamespace(app=app)), token)


async def test_the_desk_form_records_a_finding(app: FastAPI, service: Any) -> None:
    state, client = service
    rid = await _registered(state)
    async with _desk(app, "officer", "officer-dee") as (desk, csrf):
        assert 'action="/desk/findings/false-statements"' in (await desk.get("/desk/cases")).text
        form = {k: str(v) for k, v in _finding(rid).items()}
        expired = await desk.post("/desk/findings/false-statements", data={**form, "csrf": "0" * 64})
        assert expired.status_code == 403 and "The form expired" in expired.text
        invalid = await desk.post("/desk/findings/false-statements", data={**form, "version": "0", "csrf": csrf})
        assert invalid.status_code == 422 and "version" in invalid.text and rid in invalid.text  # kept what was typed
        unknown = await desk.post(
            "/desk/findings/false-statements", data={**form, "registry_id": "FMR-1999-000000", "csrf": csrf}
        )
        assert unknown.status_code == 422 and "no record of FMR-1999-000000" in unknown.text
        recorded = await desk.post("/desk/findings/false-statements", data={**form, "csrf": csrf})
        assert recorded.status_code == 303
        assert recorded.headers["location"].startswith("/desk/cases/ENF-")
        page = await desk.get(recorded.headers["location"])
        assert "False statement recorded: case opened." in page.text and "officer-dee" in page.text
        again = await desk.post("/desk/findings/false-statements", data={**form, "csrf": csrf})
        assert again.headers["location"] == recorded.headers["location"].split("?")[0] + "?done=" + (
            "This%20finding%20was%20already%20recorded%20on%20this%20case%3B%20nothing%20changed."
        )
    (case,) = (await client.get("/v1/cases", params={"registry_id": rid})).json()
    assert (case["rule"], case["breach_count"]) == ("false_statement", 1)

    async with _desk(app, "analyst", "analyst-eve") as (analyst, analyst_csrf):
        assert "/desk/findings/false-statements" not in (await analyst.get("/desk/cases")).text
        refused = await analyst.post("/desk/findings/false-statements", data={**form, "csrf": analyst_csrf})
        assert refused.status_code == 403 and "Only officers" in refused.text
