"""Every event enforcement consumes, mapped onto its rule: delivered twice it has one effect, and later
events about the same (model, rule) update the one case instead of opening another."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from registry_contracts import EventData, VerificationStatus
from registry_contracts.events.evaluations import EvaluationVerdict
from registry_contracts.events.intake import FilingKind, ModelStatus
from services.enforcement.app import create_app
from services.enforcement.settings import EnforcementSettings
from services.plumbing.inbox import Disposition
from services.plumbing.service import ServiceState
from tests.component import enforcement_support as ev
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def service(infra: Infrastructure) -> AsyncIterator[tuple[ServiceState, httpx.AsyncClient]]:
    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        client.headers.update(bearer("officer"))
        yield app.state.service, client


async def _fetch(state: ServiceState, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await state.db.fetch(sql, *args)]


async def _deliver_twice(state: ServiceState, event: EventData, subject: str | None = None) -> Any:
    envelope = ev.wrap(event, subject)
    assert await ev.deliver(state, envelope) is Disposition.PROCESSED
    assert await ev.deliver(state, envelope) is Disposition.DUPLICATE
    return envelope


BREACHES: dict[str, tuple[Callable[[str], EventData], str]] = {
    "late training notice": (lambda r: ev.late_filing(r, FilingKind.TRAINING_NOTICE), "late_training_notice"),
    "late registration": (lambda r: ev.late_filing(r, FilingKind.REGISTRATION), "late_registration"),
    "late incident report": (lambda r: ev.incident(r), "late_incident_report"),
    "late imminent-risk incident report": (
        lambda r: ev.incident(r, days_after_discovery=2, imminent=True),
        "late_incident_report",
    ),
    "compute discrepancy": (lambda r: ev.compute_verified(r), "compute_discrepancy"),
    "evaluation failed": (lambda r: ev.evaluation(r, EvaluationVerdict.FAIL), "evaluation_failed"),
    "evaluation concern": (lambda r: ev.evaluation(r, EvaluationVerdict.CONCERN), "evaluation_concern"),
    "evaluation overdue": (ev.deadline_missed, "evaluation_overdue"),
    "evaluation access refused": (ev.access_refused, "evaluation_refused"),
}


@pytest.mark.parametrize("name", list(BREACHES))
async def test_each_breach_opens_one_case_once_with_its_evidence(service: Any, name: str) -> None:
    state, client = service
    build, rule = BREACHES[name]
    rid = ev.registry_id()
    envelope = await _deliver_twice(state, build(rid))

    cases = (await client.get("/v1/cases", params={"registry_id": rid})).json()
    assert [(c["rule"], c["status"], c["breach_count"]) for c in cases] == [(rule, "opened", 1)]
    decisions = (await client.get(f"/v1/decisions/{rid}")).json()
    assert [(d["decision"], d["rule"]) for d in decisions] == [("case_opened", rule)]
    opened = await _fetch(state, "SELECT payload FROM outbox WHERE aggregateid = $1 AND type LIKE '%CaseOpened%'", rid)
    assert len(opened) == 1
    assert json.loads(opened[0]["payload"])["data"]["evidence_event_id"] == str(envelope.id)
    detail = (await client.get(f"/v1/cases/{cases[0]['case_id']}")).json()
    assert len(detail["timeline"]) == 1 and len(detail["evidence"]) == 1
    assert detail["evidence"][0]["event_type"] == envelope.data.event_type


async def test_a_later_event_updates_the_open_case(service: Any) -> None:
    state, client = service
    rid = ev.registry_id()
    await _deliver_twice(state, ev.evaluation(rid, EvaluationVerdict.FAIL, domain="cyber_offence"))
    await _deliver_twice(state, ev.evaluation(rid, EvaluationVerdict.FAIL, domain="chem_bio"))
    cases = (await client.get("/v1/cases", params={"registry_id": rid})).json()
    assert [(c["rule"], c["breach_count"]) for c in cases] == [("evaluation_failed", 2)]
    detail = (await client.get(f"/v1/cases/{cases[0]['case_id']}")).json()
    assert [e["kind"] for e in detail["timeline"]] == ["case_opened", "breach_recorded"]
    assert [e["facts"]["domain"]["domain"] for e in detail["evidence"]] == ["cyber_offence", "chem_bio"]
    decisions = (await client.get(f"/v1/decisions/{rid}")).json()
    assert [d["decision"] for d in decisions] == ["case_opened", "case_updated"]


@pytest.mark.parametrize("source", ["usage_report", "unknown_lookup"])
async def test_use_of_an_unregistered_model_opens_a_case_under_its_usage_key(service: Any, source: str) -> None:
    state, client = service
    report = ev.usage(source=source)
    key = ev.usage_key(report)
    await _deliver_twice(state, report, key)
    again = ev.usage(source=source, name=report.model_name.upper())  # same model, reported again
    await _deliver_twice(state, again, ev.usage_key(again))
    cases = (await client.get("/v1/cases", params={"registry_id": key})).json()
    assert [(c["rule"], c["registry_id"], c["breach_count"]) for c in cases] == [("used_unregistered", None, 2)]
    opened = await _fetch(state, "SELECT payload FROM outbox WHERE aggregateid = $1", key)
    assert [json.loads(o["payload"])["data"]["registry_id"] for o in opened] == [key]


async def test_a_reserved_model_deployed_without_registration_is_a_case_against_its_registry_id(service: Any) -> None:
    state, client = service
    rid = ev.registry_id()
    await _deliver_twice(state, ev.training_notice(rid))
    await _deliver_twice(state, ev.status_change(rid, ModelStatus.DEPLOYED))
    cases = (await client.get("/v1/cases", params={"registry_id": rid})).json()
    assert [(c["rule"], c["model_key"], c["model_name"]) for c in cases] == [
        ("deployed_unregistered", rid, "Reserved family")
    ]


NO_BREACH: dict[str, Callable[[str], EventData]] = {
    "registered model in use": lambda r: ev.usage(registered=True),
    "evaluation passed": lambda r: ev.evaluation(r, EvaluationVerdict.PASS),
    "incident reported on time": lambda r: ev.incident(r, days_after_discovery=3),
    "consistent compute": lambda r: ev.compute_verified(r, status=VerificationStatus.CONSISTENT, estimate=1.2e24),
    "late status change": lambda r: ev.late_filing(r, FilingKind.STATUS_CHANGE),
    "registered model deployed": lambda r: ev.status_change(r, ModelStatus.DEPLOYED),
}


@pytest.mark.parametrize("name", list(NO_BREACH))
async def test_facts_without_a_breach_are_recorded_as_no_action_once(service: Any, name: str) -> None:
    state, _ = service
    rid = ev.registry_id()
    event = NO_BREACH[name](rid)
    envelope = await _deliver_twice(state, event, getattr(event, "registry_id", None) or rid)
    rows = await _fetch(state, "SELECT decision, reason FROM decisions WHERE source_event_id = $1", envelope.id)
    assert [r["decision"] for r in rows] == ["no_action"] and rows[0]["reason"]
    assert await _fetch(state, "SELECT 1 FROM cases WHERE registry_id = $1 OR model_key = $1", rid) == []


async def test_registration_and_withdrawal_are_remembered_once(service: Any) -> None:
    state, _ = service
    rid = ev.registry_id()
    await _deliver_twice(state, ev.registration(rid))
    await _deliver_twice(state, ev.status_change(rid, ModelStatus.WITHDRAWN))
    rows = await _fetch(state, "SELECT registered, withdrawn FROM models WHERE registry_id = $1", rid)
    assert rows == [{"registered": True, "withdrawn": True}]
    standing = await _fetch(state, "SELECT standing FROM model_standing WHERE model_key = $1", rid)
    assert standing == [{"standing": "withdrawn"}]
    published = await _fetch(state, "SELECT type FROM outbox WHERE aggregateid = $1", rid)
    assert [p["type"] for p in published] == ["registry.enforcement.StandingChanged.v1"]


async def test_a_discrepancy_puts_a_registered_model_under_review_once(service: Any) -> None:
    state, _ = service
    rid = ev.registry_id()
    await _deliver_twice(state, ev.compute_verified(rid))
    await _deliver_twice(state, ev.compute_verified(rid, estimate=3e25))  # same case: standing unchanged
    rows = await _fetch(state, "SELECT payload FROM outbox WHERE aggregateid = $1 AND type LIKE '%Standing%'", rid)
    assert [json.loads(r["payload"])["data"]["standing"] for r in rows] == ["under_review"]
    points = await _fetch(
        state, "SELECT declared_flop, max_estimate_flop FROM compute_observations WHERE registry_id = $1", rid
    )
    assert points == [{"declared_flop": 1e24, "max_estimate_flop": 2e25}]  # run 1 of version 1, recorded once
