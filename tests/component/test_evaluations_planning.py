"""Plans no event asks for, on the real database: periodic re-evaluations, domains waiting for a lab, and the
regulator's requests; each run twice has one effect, and each decision is in the audit log.

These tests own their lab registry (a database of their own on the test server): whether a domain can be
assigned depends on every accredited lab, and other tests' labs cover every domain.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import Tier
from services.evaluations.app import create_app
from services.evaluations.jobs import assign_waiting_once, plan_periodic_once
from services.evaluations.settings import EvaluationsSettings
from services.plumbing.inbox import Disposition
from services.plumbing.service import ServiceState
from tests.component.evaluations_support import ALL_DOMAINS, fresh_registry_id, lab_body, outbox, verified_message
from tests.support import bearer, eventually, prometheus_samples, running, service_settings

pytestmark = pytest.mark.component
ADMIN = bearer("admin")
OFFICER = bearer("officer", subject="officer-ada")
ANALYST = bearer("analyst")
EVERY_DOMAIN_BUT_PERSUASION = [d for d in ALL_DOMAINS if d != "persuasion"]


@pytest.fixture(scope="module")
async def service(infra: Infrastructure) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    name = f"evaluations_planning_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(infra.database_url)
    await server.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = service_settings(
            EvaluationsSettings,
            infra,
            database_url=f"{infra.database_url.rsplit('/', 1)[0]}/{name}",
            deadline_poll_seconds=3600,
            planning_poll_seconds=3600,  # the jobs run when a test calls them, or when a lab change wakes them
        )
        app = create_app(settings)
        async with running(app) as (client,):
            lab_id = f"narrow-{uuid.uuid4().hex[:6]}"
            narrow = lab_body(lab_id, domains=EVERY_DOMAIN_BUT_PERSUASION, capacity=1000)
            (await client.put(f"/v1/labs/{lab_id}", json=narrow, headers=ADMIN)).raise_for_status()
            yield app, client
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


def _state(app: FastAPI) -> ServiceState:
    state: ServiceState = app.state.service
    return state


async def _verify(app: FastAPI, registry_id: str, **kwargs: Any) -> None:
    consumer = _state(app).consumer
    assert consumer is not None
    incoming = verified_message(registry_id, **kwargs)
    assert await consumer.process(incoming) is Disposition.PROCESSED


async def _requests(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    found = await _state(app).db.fetch(
        "SELECT request_id, domain, version, lab_id, status, request->'trigger' AS trigger FROM evaluation_requests"
        " WHERE registry_id = $1 ORDER BY created_at, domain",
        registry_id,
    )
    return [dict(r) for r in found]


async def _plans(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    return [p["payload"]["data"] for p in await outbox(_state(app).settings.database_url, registry_id, "%plans%")]


async def _audit(client: httpx.AsyncClient, subject: str, action: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/audit", params={"subject": subject, "action": action}, headers=ANALYST)
    answer.raise_for_status()
    entries: list[dict[str, Any]] = answer.json()
    return entries


async def test_a_domain_no_lab_can_take_waits_and_is_assigned_when_a_lab_can(service: Any) -> None:
    app, client = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id)
    assert sorted(r["domain"] for r in await _requests(app, registry_id)) == sorted(EVERY_DOMAIN_BUT_PERSUASION)
    [first_plan] = await _plans(app, registry_id)
    assert [u["domain"] for u in first_plan["unassigned"]] == ["persuasion"]
    assert first_plan["trigger"] == "registration"
    waiting = (await client.get(f"/v1/plans/{registry_id}", headers=ANALYST)).json()["waiting_for_a_lab"]
    assert [(w["domain"], w["version"]) for w in waiting] == [("persuasion", 1)]
    assert "no lab is accredited for persuasion" in waiting[0]["reason"]
    announced = await _state(app).db.fetchval("SELECT plan FROM plans WHERE registry_id = $1", registry_id)
    assert waiting[0]["request_id"] in announced  # the id the first plan gave the domain

    # Still no lab: retrying changes nothing and publishes nothing.
    assert await assign_waiting_once(_state(app)) == 0
    assert len(await _plans(app, registry_id)) == 1

    # A lab for persuasion is accredited: the wait ends without a poll, with the announced request id.
    lab_id = f"persuade-{uuid.uuid4().hex[:6]}"
    (
        await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id, domains=["persuasion"]), headers=ADMIN)
    ).raise_for_status()

    async def assigned() -> list[dict[str, Any]]:
        return [r for r in await _requests(app, registry_id) if r["domain"] == "persuasion"]

    [persuasion] = await eventually(assigned, what="the waiting domain to be assigned to the new lab")
    assert persuasion["request_id"] == waiting[0]["request_id"] and persuasion["lab_id"] == lab_id
    plans = await _plans(app, registry_id)
    assert len(plans) == 2 and plans[1]["trigger"] == "registration"
    assert [(r["domain"], r["lab_id"]) for r in plans[1]["requests"]] == [("persuasion", lab_id)]
    assert plans[1]["unassigned"] == []
    lab_messages = await outbox(_state(app).settings.database_url, registry_id, f"evaluations.requests.{lab_id}.v1")
    assert [m["payload"]["data"]["request_id"] for m in lab_messages] == [persuasion["request_id"]]
    assert (await client.get(f"/v1/plans/{registry_id}", headers=ANALYST)).json()["waiting_for_a_lab"] == []

    # Run again: one effect.
    assert await assign_waiting_once(_state(app)) == 0
    assert len(await _requests(app, registry_id)) == 5 and len(await _plans(app, registry_id)) == 2
    decisions = list(reversed(await _audit(client, registry_id, "decision.evaluations_planned")))  # oldest first
    assert [(d["actor"], len(d["detail"]["requests"])) for d in decisions] == [("system", 4), ("system", 1)]
    assert [d["detail"]["unassigned"] for d in decisions] == [["persuasion"], []]
    await client.post(
        f"/v1/labs/{lab_id}/suspension", json={"reason": "keep later tests' domain unassignable"}, headers=ADMIN
    )


async def test_a_newer_version_ends_the_older_versions_wait(service: Any) -> None:
    app, client = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id)
    await _verify(app, registry_id, version=2, trigger="amendment")
    waiting = (await client.get(f"/v1/plans/{registry_id}", headers=ANALYST)).json()["waiting_for_a_lab"]
    assert [(w["domain"], w["version"]) for w in waiting] == [("persuasion", 2)]  # version 1's wait is over


async def test_a_wait_for_a_version_no_longer_current_is_dropped(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id)
    # Version 2 known, but planned by nothing yet (as if its plan were still on its way): version 1's wait is moot.
    await _state(app).db.execute("UPDATE models SET version = 2 WHERE registry_id = $1", registry_id)
    await assign_waiting_once(_state(app))
    assert (
        await _state(app).db.fetchval("SELECT count(*) FROM waiting_domains WHERE registry_id = $1", registry_id) == 0
    )


async def test_the_periodic_re_evaluation_comes_due_and_is_planned_once(service: Any) -> None:
    app, client = service
    state = _state(app)
    registry_id = fresh_registry_id()
    await _verify(app, registry_id)
    first = await _requests(app, registry_id)
    last_full = await state.db.fetchval("SELECT last_full_plan_at FROM models WHERE registry_id = $1", registry_id)
    assert last_full is not None
    # Not due yet.
    assert await plan_periodic_once(state) == 0
    # A quarter (evaluation_periodic_days, 91) later, the first evaluations long completed:
    await state.db.execute(
        "UPDATE evaluation_requests SET status = 'completed', request = jsonb_set(request, '{status}', '\"completed\"')"
        " WHERE registry_id = $1",
        registry_id,
    )
    back = timedelta(days=92)
    await state.db.execute(
        "UPDATE models SET last_full_plan_at = last_full_plan_at - $2::interval WHERE registry_id = $1",
        registry_id,
        back,
    )
    now = datetime.now(UTC)
    assert await plan_periodic_once(state, now=now) == 1
    assert await plan_periodic_once(state, now=now) == 0  # run twice: one cycle
    again = [r for r in await _requests(app, registry_id) if r["request_id"] not in {f["request_id"] for f in first}]
    assert sorted(r["domain"] for r in again) == sorted(EVERY_DOMAIN_BUT_PERSUASION)
    due_day = (last_full - back + timedelta(days=91)).date()
    assert {(r["trigger"]) for r in again} == {
        f'{{"kind": "periodic", "reference": "cycle due {due_day}", "extra_domains": []}}'
    }
    plans = await _plans(app, registry_id)
    assert [p["trigger"] for p in plans] == ["registration", "periodic"]
    assert plans[1]["trigger_reference"] == f"cycle due {due_day}"
    restarted = await state.db.fetchval("SELECT last_full_plan_at FROM models WHERE registry_id = $1", registry_id)
    assert restarted > now - timedelta(minutes=5)
    # The cycle's persuasion waits for a lab under the periodic trigger (the registration's wait is separate).
    waiting = (await client.get(f"/v1/plans/{registry_id}", headers=ANALYST)).json()["waiting_for_a_lab"]
    assert sorted(w["trigger"]["kind"] for w in waiting) == ["periodic", "registration"]


async def test_a_periodic_cycle_with_everything_still_open_only_restarts_the_clock(service: Any) -> None:
    app, _ = service
    state = _state(app)
    registry_id = fresh_registry_id()
    await _verify(app, registry_id, tier=Tier.REPORTABLE)  # domains the narrow lab covers: none waits
    await state.db.execute(
        "UPDATE models SET last_full_plan_at = now() - interval '100 days' WHERE registry_id = $1", registry_id
    )
    requests_before = await _requests(app, registry_id)
    assert len(requests_before) == 3 and {r["status"] for r in requests_before} == {"open"}
    assert await plan_periodic_once(state) == 1
    assert [p["trigger"] for p in await _plans(app, registry_id)] == ["registration"]  # nothing new to announce
    assert len(await _requests(app, registry_id)) == 3
    assert await state.db.fetchval(
        "SELECT last_full_plan_at > now() - interval '1 hour' FROM models WHERE registry_id = $1", registry_id
    )


async def test_a_model_below_the_thresholds_has_no_periodic_cycle(service: Any) -> None:
    app, _ = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id, tier=Tier.BELOW)
    assert (
        await _state(app).db.fetchval("SELECT last_full_plan_at FROM models WHERE registry_id = $1", registry_id)
        is None
    )


async def test_the_regulator_requests_evaluations_once_per_reference(service: Any) -> None:
    app, client = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id, tier=Tier.BELOW)  # a tier that requires nothing by itself
    assert await _requests(app, registry_id) == []
    order = {
        "reference": "REG-ORDER-2026-117",
        "extra_domains": ["cyber_offence", "chem_bio"],
        "reason": "press reports",
    }
    url = f"/v1/plans/{registry_id}/regulator-requests"
    answer = await client.post(url, json=order, headers=OFFICER)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/v1/plans/{registry_id}"
    plan = answer.json()
    assert plan["requested_by"] == "officer-ada"
    assert plan["trigger"] == {
        "kind": "regulator_request",
        "reference": "REG-ORDER-2026-117",
        "extra_domains": ["chem_bio", "cyber_offence"],
    }
    assert sorted(r["domain"] for r in plan["requests"]) == ["chem_bio", "cyber_offence"]
    retried = await client.post(url, json=order, headers=OFFICER)
    assert retried.status_code == 200 and retried.json()["requests"] == plan["requests"]
    assert len(await _requests(app, registry_id)) == 2
    published = await _plans(app, registry_id)
    assert [(p["trigger"], p["trigger_reference"]) for p in published] == [
        ("registration", None),
        ("regulator_request", "REG-ORDER-2026-117"),
    ]
    [logged] = await _audit(client, registry_id, "evaluations.regulator_request")
    assert logged["actor"] == "officer-ada" and logged["detail"]["reason"] == "press reports"
    decided = reversed(await _audit(client, registry_id, "decision.evaluations_planned"))
    assert [(d["actor"], d["detail"]["reference"]) for d in decided] == [
        ("system", ""),
        ("officer-ada", "REG-ORDER-2026-117"),
    ]

    # A different reference is a different request.
    other = await client.post(
        url, json=order | {"reference": "REG-ORDER-2026-118", "extra_domains": ["autonomy_ai_rnd"]}, headers=OFFICER
    )
    assert other.status_code == 201 and [r["domain"] for r in other.json()["requests"]] == ["autonomy_ai_rnd"]


async def test_a_regulator_request_says_what_is_wrong(service: Any) -> None:
    _, client = service
    registry_id = fresh_registry_id()
    url = f"/v1/plans/{registry_id}/regulator-requests"
    order = {"reference": "REG-1", "extra_domains": ["cyber_offence"], "reason": "why"}
    unknown_model = await client.post(url, json=order, headers=OFFICER)
    assert unknown_model.status_code == 404 and "no verified version yet" in unknown_model.json()["detail"]
    bad_domain = await client.post(url, json=order | {"extra_domains": ["astrology"]}, headers=OFFICER)
    assert bad_domain.status_code == 422 and "astrology" in bad_domain.json()["detail"]
    blank = await client.post(url, json=order | {"reference": "   "}, headers=OFFICER)
    assert blank.status_code == 422
    assert (await client.post(url, json=order, headers=bearer("registrant", org="org-1"))).status_code == 403
    assert (await client.post(url, json=order, headers=bearer("lab", lab="narrow"))).status_code == 403


async def test_lab_administration_and_results_are_in_the_audit_log(service: Any) -> None:
    _, client = service
    lab_id = f"audited-{uuid.uuid4().hex[:6]}"
    body = lab_body(lab_id, domains=["chem_bio"], capacity=1)
    (await client.put(f"/v1/labs/{lab_id}", json=body, headers=ADMIN)).raise_for_status()
    await client.post(f"/v1/labs/{lab_id}/suspension", json={"reason": "audit findings"}, headers=ADMIN)
    await client.delete(f"/v1/labs/{lab_id}/suspension", headers=ADMIN)
    logged = (await client.get("/v1/audit", params={"subject": lab_id}, headers=ANALYST)).json()
    assert [(e["action"], e["actor"]) for e in reversed(logged)] == [
        ("lab.accredited", "test-admin"),
        ("lab.suspended", "test-admin"),
        ("lab.reinstated", "test-admin"),
    ]
    assert logged[1]["detail"]["reason"] == "audit findings"


async def test_results_accepted_and_refused_are_in_the_audit_log(service: Any) -> None:
    app, client = service
    registry_id = fresh_registry_id()
    await _verify(app, registry_id)
    request = (await _requests(app, registry_id))[0]
    lab_id = request["lab_id"]
    own = bearer("lab", lab=lab_id)
    mine = next(
        r
        for r in (await client.get(f"/v1/labs/{lab_id}/requests", headers=own)).json()
        if r["request_id"] == request["request_id"]
    )
    body = {
        "request_id": request["request_id"],
        "registry_id": registry_id,
        "version": 1,
        "suite_scores": {s["suite_id"]: s["score_min"] for s in mine["suites"]},
    }
    assert (await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=own)).status_code == 201
    assert (await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=own)).status_code == 409
    accepted = await _audit(client, registry_id, "decision.result_accepted")
    refused = await _audit(client, registry_id, "decision.result_rejected")
    assert [(e["actor"], e["detail"]["request_id"], e["detail"]["via"]) for e in accepted] == [
        (f"lab:{lab_id}", request["request_id"], "http")
    ]
    assert [e["detail"]["rejection"] for e in refused] == ["duplicate"]


async def test_metrics_count_requests_and_waiting_domains_in_json_and_prometheus(service: Any) -> None:
    app, client = service
    before = (await client.get("/metrics")).json()
    await _verify(app, fresh_registry_id())  # a frontier model: four requests, persuasion waits
    answer = (await client.get("/metrics")).json()
    # At least: this service's consumer may apply other tests' leftover events meanwhile.
    assert answer["domains_waiting_for_a_lab"] >= before["domains_waiting_for_a_lab"] + 1
    assert answer["evaluation_requests"]["open"] >= before["evaluation_requests"]["open"] + 4
    assert set(answer["evaluation_requests"]) == {"open", "completed", "superseded", "access_refused"}
    assert "lab_results_lag" in answer and answer["consumer_lag"]["total"] >= 0

    scraped = await client.get("/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = prometheus_samples(scraped.text)
    assert samples['registry_domains_waiting_for_a_lab{service="evaluations"}'] >= answer["domains_waiting_for_a_lab"]
    assert (
        samples['registry_evaluation_requests{service="evaluations",status="open"}']
        >= answer["evaluation_requests"]["open"]
    )
    assert "# TYPE registry_counters_total counter" in scraped.text
    assert (await client.get("/metrics", params={"format": "prometheus"})).text.startswith("# HELP")
    assert (await client.get("/metrics", params={"format": "xml"})).status_code == 422
