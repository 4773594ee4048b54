"""The regulator's designation of a model and the developer's rebuttal, through intake's API on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from tests.component.intake_support import events_about, full_registration, intake_app, intake_rows, registrant
from tests.support import bearer, running

pytestmark = pytest.mark.component
OFFICER = bearer("officer", subject="officer-des")


@pytest.fixture(scope="module")
async def intake(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running(intake_app(infra, tmp_path_factory.mktemp("intake"))) as (client,):
        client.infra = infra  # type: ignore[attr-defined]
        yield client


async def _registered(intake: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    body = full_registration()
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    assert accepted.status_code == 201, accepted.text
    return accepted.json()["registry_id"], registrant(body["developer"])


async def _designation_events(infra: Infrastructure, registry_id: str) -> list[dict[str, Any]]:
    rows = await intake_rows(
        infra,
        "SELECT payload FROM outbox WHERE aggregateid = $1 AND type LIKE '%ModelDesignationChanged%' ORDER BY seq",
        registry_id,
    )
    return [json.loads(r["payload"])["data"] for r in rows]


async def test_an_officer_designates_the_developer_rebuts_and_the_officer_revokes(intake: httpx.AsyncClient) -> None:
    infra: Infrastructure = intake.infra  # type: ignore[attr-defined]
    registry_id, developer = await _registered(intake)
    url = f"/v1/registrations/{registry_id}/designation"
    rebuttals = f"{url}/rebuttals"

    early = await intake.post(rebuttals, json={"arguments": "nothing to rebut yet"}, headers=developer)
    assert early.status_code == 409 and "not designated" in early.json()["detail"]

    decided = await intake.post(url, json={"designated": True, "reason": "general-purpose reach"}, headers=OFFICER)
    assert decided.status_code == 201, decided.text
    designation = decided.json()
    assert designation["designated"] is True and designation["designation_id"].startswith("DES-")
    assert decided.headers["location"] == f"/v1/filings/{designation['designation_id']}"
    [event] = await _designation_events(infra, registry_id)
    assert event["designated"] is True and event["decided_by"] == "officer-des"
    assert event["reason"] == "general-purpose reach" and event["designation_id"] == designation["designation_id"]

    again = await intake.post(url, json={"designated": True, "reason": "twice"}, headers=OFFICER)
    assert again.status_code == 409 and designation["designation_id"] in again.json()["detail"]

    # The developer sees the decision and its grounds, and the record says designated.
    record = (await intake.get(f"/v1/registrations/{registry_id}", headers=developer)).json()
    assert (record["designated"], record["designation_id"]) == (True, designation["designation_id"])
    grounds = (await intake.get(f"/v1/filings/{designation['designation_id']}", headers=developer)).json()
    assert "general-purpose reach" in json.dumps(grounds)

    rebutted = await intake.post(rebuttals, json={"arguments": "It is a narrow model."}, headers=developer)
    assert rebutted.status_code == 201, rebutted.text
    assert rebutted.json()["designation_id"] == designation["designation_id"]
    listed = await intake.get(
        f"/v1/registrations/{registry_id}/filings", params={"kind": "designation_rebuttal"}, headers=OFFICER
    )
    assert [f["filing_id"] for f in listed.json()] == [rebutted.json()["rebuttal_id"]]

    # The rebuttal awaits a decision in the officers' list.
    awaiting = await _awaiting(intake)
    assert awaiting[registry_id]["rebuttals"][0]["rebuttal_id"] == rebutted.json()["rebuttal_id"]
    assert awaiting[registry_id]["designation_id"] == designation["designation_id"]

    revoked = await intake.post(url, json={"designated": False, "reason": "the rebuttal holds"}, headers=OFFICER)
    assert revoked.status_code == 201 and revoked.json()["upheld"] is False
    assert registry_id not in await _awaiting(intake)
    assert [e["designated"] for e in await _designation_events(infra, registry_id)] == [True, False]
    assert (await intake.get(f"/v1/registrations/{registry_id}", headers=developer)).json()["designated"] is False
    assert "ModelDesignationChanged" in await events_about(infra, registry_id)
    audited = await intake_rows(
        infra, "SELECT action, actor FROM audit_log WHERE subject = $1 ORDER BY seq", registry_id
    )
    assert [(a["action"], a["actor"]) for a in audited if "designation" in a["action"]] == [
        ("filing.designation", "officer-des"),
        ("filing.designation_rebuttal", "test-registrant"),
        ("filing.designation", "officer-des"),
    ]


async def test_a_retried_decision_has_one_effect(intake: httpx.AsyncClient) -> None:
    infra: Infrastructure = intake.infra  # type: ignore[attr-defined]
    registry_id, _ = await _registered(intake)
    url = f"/v1/registrations/{registry_id}/designation"
    headers = {**OFFICER, "Idempotency-Key": f"designate-{registry_id}"}
    first = await intake.post(url, json={"designated": True, "reason": "reach"}, headers=headers)
    retried = await intake.post(url, json={"designated": True, "reason": "reach"}, headers=headers)
    assert (first.status_code, retried.status_code) == (201, 201) and retried.json() == first.json()
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(await _designation_events(infra, registry_id)) == 1


async def test_who_may_do_what_and_bad_input(intake: httpx.AsyncClient) -> None:
    registry_id, developer = await _registered(intake)
    url = f"/v1/registrations/{registry_id}/designation"
    body = {"designated": True, "reason": "reach"}
    assert (await intake.post(url, json=body, headers=developer)).status_code == 403  # developers cannot
    assert (await intake.post(url, json=body, headers=bearer("analyst"))).status_code == 403
    assert (await intake.post(url, json=body)).status_code == 401
    unknown = await intake.post("/v1/registrations/FMR-1999-999999/designation", json=body, headers=OFFICER)
    assert unknown.status_code == 404
    blank = await intake.post(url, json={"designated": True, "reason": "   "}, headers=OFFICER)
    assert blank.status_code == 422 and "reason" in blank.text
    missing = await intake.post(url, json={"reason": "reach"}, headers=OFFICER)
    assert missing.status_code == 422 and "designated" in missing.text
    assert (await intake.post(url, json=body, headers=OFFICER)).status_code == 201
    other = registrant(full_registration()["developer"])
    stranger = await intake.post(f"{url}/rebuttals", json={"arguments": "not yours"}, headers=other)
    assert stranger.status_code == 404  # another organisation's model does not exist for it


async def _awaiting(intake: httpx.AsyncClient) -> dict[str, Any]:
    answer = await intake.get("/v1/designations", params={"awaiting_decision": "true"}, headers=OFFICER)
    assert answer.status_code == 200, answer.text
    return {d["registry_id"]: d for d in answer.json()}


async def test_an_officer_upholds_a_rebutted_designation(intake: httpx.AsyncClient) -> None:
    infra: Infrastructure = intake.infra  # type: ignore[attr-defined]
    registry_id, developer = await _registered(intake)
    url = f"/v1/registrations/{registry_id}/designation"
    first = (await intake.post(url, json={"designated": True, "reason": "reach"}, headers=OFFICER)).json()
    await intake.post(f"{url}/rebuttals", json={"arguments": "narrow model"}, headers=developer)
    assert registry_id in await _awaiting(intake)

    upheld = await intake.post(url, json={"designated": True, "reason": "the reach is shown"}, headers=OFFICER)
    assert upheld.status_code == 201 and upheld.json()["upheld"] is True
    assert upheld.json()["designation_id"] != first["designation_id"]
    assert registry_id not in await _awaiting(intake)  # answered by the new decision
    listed = (await intake.get("/v1/designations", headers=bearer("analyst"))).json()
    [entry] = [d for d in listed if d["registry_id"] == registry_id]
    assert (entry["designated"], entry["designation_id"], entry["rebuttals"]) == (
        True,
        upheld.json()["designation_id"],
        [],
    )
    assert [e["designated"] for e in await _designation_events(infra, registry_id)] == [True, True]
    # Upheld with no new rebuttal: nothing to decide.
    again = await intake.post(url, json={"designated": True, "reason": "again"}, headers=OFFICER)
    assert again.status_code == 409
    assert (await intake.get("/v1/designations", headers=developer)).status_code == 403
