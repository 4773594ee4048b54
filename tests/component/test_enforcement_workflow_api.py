"""The officers' workflow through the HTTP API: every transition, every action, the row-version guard, the
problems an officer gets for illegal moves and bad input, and the durable response deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from registry_contracts.events.evaluations import EvaluationVerdict
from services.enforcement.app import create_app
from services.enforcement.deadlines import apply_due_deadlines
from services.enforcement.settings import EnforcementSettings
from services.plumbing.service import ServiceState
from tests.component import enforcement_support as ev
from tests.support import bearer, eventually, prometheus_samples, running, service_settings

pytestmark = pytest.mark.component
OFFICER = bearer("officer", subject="officer-ada")


@pytest.fixture(scope="module")
async def service(infra: Infrastructure) -> AsyncIterator[tuple[ServiceState, httpx.AsyncClient]]:
    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        client.headers.update(OFFICER)
        yield app.state.service, client


async def _open_case(state: ServiceState, client: httpx.AsyncClient, verdict=EvaluationVerdict.FAIL) -> dict[str, Any]:
    rid = ev.registry_id()
    await ev.deliver(state, ev.wrap(ev.registration(rid)))
    await ev.deliver(state, ev.wrap(ev.evaluation(rid, verdict)))
    (case,) = (await client.get("/v1/cases", params={"registry_id": rid})).json()
    return case


async def _post(client: httpx.AsyncClient, case: dict[str, Any], path: str, body: dict[str, Any], **kw: Any):
    """POST with the row version last read; keeps `case` current for the next call."""
    response = await client.post(
        f"/v1/cases/{case['case_id']}/{path}", json={"row_version": case["row_version"], **body}, **kw
    )
    if response.status_code == 200:
        case["row_version"] = response.json()["row_version"]
        case["status"] = response.json()["case"]["status"]
    return response


async def test_a_case_through_every_step_publishes_each_transition(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    rid = case["registry_id"]
    steps = [
        ("triage", {"reason": "Fail on cyber offence"}, "triaged"),
        ("assignment", {"officer_id": "officer-bea"}, "triaged"),
        ("notes", {"text": "Called the developer's compliance lead."}, "triaged"),
        ("notice", {"reason": "Explain the cyber offence failure"}, "notice_issued"),
        ("transitions", {"to_status": "awaiting_response", "reason": "Notice served by courier"}, "awaiting_response"),
        ("response", {"summary": "The developer disputes the lab's scoring."}, "ready_for_decision"),
        ("decision", {"decision": "breach_established", "reason": "Scores are valid"}, "decided"),
        ("closure", {"resolution": "sanctioned", "reason": "Warning issued"}, "closed"),
        ("appeal", {"grounds": "New evidence on the scoring"}, "appealed"),
        ("decision", {"decision": "breach_established", "reason": "Upheld on appeal"}, "decided"),
    ]
    for path, body, expected in steps:
        response = await _post(client, case, path, body)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["case"]["status"] == expected
        assert response.headers["ETag"] == f'"{case["row_version"]}"'
    detail = (await client.get(f"/v1/cases/{case['case_id']}")).json()
    assert detail["assigned_officer"] == "officer-bea"
    assert detail["response_due_at"] is not None  # stored durably with the notice
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == [
        "case_opened",
        "status_changed",
        "officer_assigned",
        "note_added",
        "notice_issued",
        "status_changed",
        "response_received",
        "decision_recorded",
        "case_closed",
        "appeal_filed",
        "appeal_decided",
    ]
    moves = [
        (c["from_status"], c["to_status"], c["actor"]) for c in await ev.published(state, rid, "CaseStatusChanged")
    ]
    assert moves == [
        ("opened", "triaged", "officer-ada"),
        ("triaged", "notice_issued", "officer-ada"),
        ("notice_issued", "awaiting_response", "officer-ada"),
        ("awaiting_response", "ready_for_decision", "officer-ada"),
        ("ready_for_decision", "decided", "officer-ada"),
        ("decided", "closed", "officer-ada"),
        ("closed", "appealed", "officer-ada"),
        ("appealed", "decided", "officer-ada"),
    ]
    # Every decision is in the audit log, the system's opening and each of the officer's, in order; it verifies.
    auditor = {"Authorization": bearer("analyst")["Authorization"]}
    logged = (await client.get("/v1/audit", params={"subject": case["case_id"]}, headers=auditor)).json()
    assert [(e["action"], e["actor"]) for e in reversed(logged)] == [("decision.case_opened", "system")] + [
        (f"decision.{kind}", "officer-ada") for kind in kinds[1:]
    ]
    assert (await client.get("/v1/audit/verify", headers=OFFICER)).status_code == 403
    await eventually(lambda: _chained(client, auditor, len(kinds), case["case_id"]), what="the decisions to be chained")
    assert (await client.get("/v1/audit/verify", headers=auditor)).json()["intact"] is True


async def test_dismissal_from_opened_and_remedy_after_notice(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client, EvaluationVerdict.CONCERN)
    assert (
        await _post(client, case, "closure", {"resolution": "duplicate", "reason": "Same as ENF-1"})
    ).status_code == 200
    other = await _open_case(state, client, EvaluationVerdict.CONCERN)
    await _post(client, other, "triage", {})
    await _post(client, other, "notice", {"reason": "Explain"})
    response = await _post(client, other, "closure", {"resolution": "remedied", "reason": "Re-evaluated"})
    assert response.status_code == 200 and response.json()["case"]["resolution"] == "remedied"


async def test_an_illegal_transition_is_refused_naming_the_allowed_statuses(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    response = await _post(client, case, "decision", {"decision": "breach_established", "reason": "Too fast"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Transition not allowed"
    assert problem["allowed_next_statuses"] == ["closed", "triaged"]
    assert "cannot move from opened to decided" in problem["detail"]
    (unchanged,) = (await client.get("/v1/cases", params={"registry_id": case["registry_id"]})).json()
    assert unchanged["status"] == "opened" and unchanged["row_version"] == case["row_version"]


async def test_bad_input_names_each_bad_field(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    response = await _post(client, case, "transitions", {"to_status": "sideways", "reason": ""})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"to_status", "reason"}
    wrong_resolution = await _post(client, case, "closure", {"resolution": "sanctioned", "reason": "x"})
    assert wrong_resolution.status_code == 422
    assert wrong_resolution.json()["errors"][0]["field"] == "resolution"


async def test_every_write_needs_the_row_version_it_read(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    url = f"/v1/cases/{case['case_id']}/triage"
    missing = await client.post(url, json={})
    assert missing.status_code == 428 and "row_version" in missing.json()["detail"]
    via_header = await client.post(url, json={}, headers={"If-Match": f'"{case["row_version"]}"'})
    assert via_header.status_code == 200
    stale = await client.post(url.replace("triage", "notes"), json={"text": "late"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["current_row_version"] == via_header.json()["row_version"]
    mismatch = await client.post(url, json={"row_version": 5}, headers={"If-Match": '"4"'})
    assert mismatch.status_code == 422


async def test_analysts_read_but_cannot_change_a_case(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    analyst = bearer("analyst")
    assert (await client.get(f"/v1/cases/{case['case_id']}", headers=analyst)).status_code == 200
    refused = await client.post(f"/v1/cases/{case['case_id']}/triage", json={"row_version": 1}, headers=analyst)
    assert refused.status_code == 403
    assert (await client.get("/v1/cases/ENF-1999-000000", headers=analyst)).status_code == 404


async def _decided(state: ServiceState, client: httpx.AsyncClient) -> dict[str, Any]:
    case = await _open_case(state, client)
    await _post(client, case, "triage", {})
    await _post(client, case, "notice", {"reason": "Explain"})
    await _post(client, case, "response", {"summary": "No comment"})
    assert (
        await _post(client, case, "decision", {"decision": "breach_established", "reason": "Valid"})
    ).status_code == 200
    return case


async def test_every_action_is_published_and_suspension_changes_standing(service: Any) -> None:
    state, client = service
    case = await _decided(state, client)
    rid = case["registry_id"]
    comply_by = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    actions = [
        {"kind": "warning", "reason": "First breach"},
        {"kind": "compliance_order", "reason": "Re-run the evaluation", "comply_by": comply_by},
        {"kind": "penalty", "reason": "Refusal", "amount": "750000", "penalty": {"regime": "sb53", "violations": 1}},
        {"kind": "suspension", "reason": "Unsafe cyber capability"},
        {"kind": "reinstatement", "reason": "Mitigations verified"},
    ]
    for body in actions:
        response = await _post(client, case, "actions", body)
        assert response.status_code == 200, response.text
        assert response.json()["action"]["kind"] == body["kind"]
    taken = await ev.published(state, rid, "ActionTaken")
    assert [a["kind"] for a in taken] == [a["kind"] for a in actions]
    assert (taken[2]["amount"], taken[2]["currency"]) == ("750000", "USD")
    standing = [s["standing"] for s in await ev.published(state, rid, "StandingChanged")]
    # opened (failed evaluation): under review; suspended; reinstated while the decided case is open: under review
    assert standing == ["under_review", "suspended", "under_review"]
    detail = (await client.get(f"/v1/cases/{case['case_id']}")).json()
    penalty_entry = next(e for e in detail["timeline"] if e["summary"].startswith("Penalty"))
    assert any("SB 53" in line for line in penalty_entry["details"])  # the calculator's reasoning is kept


async def test_actions_refused_clearly(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client, EvaluationVerdict.CONCERN)
    warning = await _post(client, case, "actions", {"kind": "warning", "reason": "Too early"})
    assert warning.status_code == 409 and "decided case" in warning.json()["detail"]
    interim = await _post(client, case, "actions", {"kind": "suspension", "reason": "x", "interim": True})
    assert interim.status_code == 409 and "does not allow an interim suspension" in interim.json()["detail"]
    decided = await _decided(state, client)
    too_much = await _post(
        client,
        decided,
        "actions",
        {"kind": "penalty", "reason": "x", "amount": "2000000", "penalty": {"regime": "sb53", "violations": 1}},
    )
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    no_inputs = await _post(client, decided, "actions", {"kind": "penalty", "reason": "x", "amount": "1"})
    assert no_inputs.status_code == 422 and no_inputs.json()["errors"][0]["field"] == "penalty"
    reinstate = await _post(client, decided, "actions", {"kind": "reinstatement", "reason": "nothing to lift"})
    assert reinstate.status_code == 409


async def test_an_interim_suspension_before_a_decision(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)  # evaluation failed allows an interim suspension
    response = await _post(client, case, "actions", {"kind": "suspension", "reason": "Imminent risk", "interim": True})
    assert response.status_code == 200 and response.json()["action"]["interim"] is True
    standing = [s["standing"] for s in await ev.published(state, case["registry_id"], "StandingChanged")]
    assert standing == ["under_review", "suspended"]


async def test_the_response_deadline_moves_the_case_when_due_once(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    await _post(client, case, "triage", {})
    await _post(client, case, "notice", {"reason": "Explain"})
    await apply_due_deadlines(state.db, now=datetime.now(UTC))  # not yet due for this case (others' may be)
    assert (await client.get(f"/v1/cases/{case['case_id']}")).json()["status"] == "notice_issued"
    later = datetime.now(UTC) + timedelta(days=31)
    assert await apply_due_deadlines(state.db, now=later) >= 1
    (moved,) = (await client.get("/v1/cases", params={"registry_id": case["registry_id"]})).json()
    assert moved["status"] == "ready_for_decision"
    await apply_due_deadlines(state.db, now=later)  # a second pass finds nothing to do for this case
    detail = (await client.get(f"/v1/cases/{case['case_id']}")).json()
    assert [e["kind"] for e in detail["timeline"]].count("response_deadline_passed") == 1
    moves = [(c["to_status"], c["actor"]) for c in await ev.published(state, case["registry_id"], "CaseStatusChanged")]
    assert moves[-1] == ("ready_for_decision", "system")
    auditor = {"Authorization": bearer("analyst")["Authorization"]}
    logged = (await client.get("/v1/audit", params={"subject": case["case_id"]}, headers=auditor)).json()
    assert [(e["action"], e["actor"]) for e in logged].count(("decision.response_deadline_passed", "system")) == 1


@pytest.mark.parametrize(
    ("inputs", "maximum", "currency", "phrase"),
    [
        (
            {"regime": "eu_gpai", "worldwide_turnover_eur": "2000000000"},
            "60000000.00",
            "EUR",
            "exceeds the EUR 15M floor",
        ),
        ({"regime": "eu_gpai", "worldwide_turnover_eur": "1000"}, "15000000.00", "EUR", "does not exceed"),
        ({"regime": "sb53", "violations": 3}, "3000000.00", "USD", "3 violations"),
        ({"regime": "raise", "violations": 2, "prior_violations": 0}, "4000000.00", "USD", "first violation"),
        ({"regime": "raise", "violations": 1, "prior_violations": 2}, "3000000.00", "USD", "none of these is a first"),
        (
            {"regime": "per_day", "notice_served_on": "2026-01-01", "assessed_through": "2026-02-10"},
            "110000.00",
            "USD",
            "10 days of non-compliance",
        ),
    ],
)
async def test_penalty_calculator_shows_its_reasoning(
    service: Any, inputs: dict[str, Any], maximum: str, currency: str, phrase: str
) -> None:
    _, client = service
    response = await client.post("/v1/penalties/assessments", json=inputs, headers=bearer("analyst"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["maximum_amount"], body["currency"], body["profile_id"]) == (maximum, currency, "baseline-2026-01")
    assert any(phrase in line for line in body["reasoning"]), body["reasoning"]


async def test_penalty_regimes_and_bad_calculator_input(service: Any) -> None:
    _, client = service
    regimes = (await client.get("/v1/penalties/regimes")).json()
    assert [r["regime"] for r in regimes["regimes"]] == ["eu_gpai", "sb53", "raise", "per_day"]
    assert regimes["regimes"][1]["figures"] == {"per_violation_usd": 1_000_000}
    bad = await client.post("/v1/penalties/assessments", json={"regime": "sb53", "violations": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("violations")
    unknown = await client.post("/v1/penalties/assessments", json={"regime": "galactic"})
    assert unknown.status_code == 422


async def test_dashboard_counts_and_csv_export(service: Any) -> None:
    state, client = service
    rid = ev.registry_id()
    await ev.deliver(state, ev.wrap(ev.compute_verified(rid, declared=2e24, estimate=4e25)))
    dashboard = (await client.get("/v1/dashboard", headers=bearer("analyst"))).json()
    assert dashboard["thresholds"] == {"reportable_flop": 1e25, "frontier_flop": 1e26}
    assert any(p["registry_id"] == rid and p["max_estimate_flop"] == 4e25 for p in dashboard["compute"])
    assert any(c["tier"] == "reportable" and c["status"] == "opened" for c in dashboard["counts"])
    export = await client.get("/v1/exports/cases.csv", headers=bearer("analyst"))
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0].startswith("case_id,registry_id,model_key")
    assert any(rid in line and "compute_discrepancy" in line for line in lines[1:])
    counts = (await client.get("/v1/cases/counts")).json()
    assert counts["rule"]["compute_discrepancy"] >= 1 and counts["assignee"]["unassigned"] >= 1


async def test_a_future_dated_suspension_takes_effect_when_due(service: Any) -> None:
    state, client = service
    case = await _decided(state, client)
    starts = datetime.now(UTC) + timedelta(days=2)
    body = {"kind": "suspension", "reason": "From Monday", "effective_at": starts.isoformat()}
    assert (await _post(client, case, "actions", body)).status_code == 200
    standing = [s["standing"] for s in await ev.published(state, case["registry_id"], "StandingChanged")]
    assert standing == ["under_review"]  # not suspended yet
    await apply_due_deadlines(state.db, now=starts + timedelta(minutes=1))
    standing = [s["standing"] for s in await ev.published(state, case["registry_id"], "StandingChanged")]
    assert standing == ["under_review", "suspended"]


async def _chained(client: httpx.AsyncClient, headers: dict[str, str], count: int, subject: str) -> bool:
    entries = (await client.get("/v1/audit", params={"subject": subject}, headers=headers)).json()
    return len(entries) == count and all(e["position"] is not None for e in entries)


async def test_metrics_count_cases_by_status_and_rule(service: Any) -> None:
    state, client = service
    before = (await client.get("/metrics")).json()
    await _open_case(state, client)
    after = (await client.get("/metrics")).json()
    # At least: the service's consumer may open cases from other tests' leftover events meanwhile.
    assert after["cases"]["opened"] >= before["cases"]["opened"] + 1
    assert after["cases_by_rule"]["evaluation_failed"] >= before["cases_by_rule"]["evaluation_failed"] + 1
    assert set(after["cases"]) >= {"opened", "triaged", "closed"}  # every status, even at zero
    samples = prometheus_samples((await client.get("/metrics", params={"format": "prometheus"})).text)
    assert samples['registry_cases{service="enforcement",status="opened"}'] >= after["cases"]["opened"]
    assert samples['registry_cases_by_rule{service="enforcement",rule="false_statement"}'] >= 0


async def test_text_with_a_nul_character_is_refused_by_name_not_failed_on(service: Any) -> None:
    state, client = service
    case = await _open_case(state, client)
    note = await _post(client, case, "notes", {"text": "before\u0000after"})
    assert note.status_code == 422, note.text
    assert "text" in note.text and "NUL" in note.text
    closing = await _post(client, case, "transitions", {"to_status": "triaged", "reason": "\u0000"})
    assert closing.status_code == 422 and "NUL" in closing.text
