"""The whole registry as four real subprocesses on real Kafka and PostgreSQL, as an agency runs it."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from devstack import Infrastructure
from devstack.services import SERVICE_NAMES, ServiceProcess, kill_service, start_service, stop_services, wait_ready
from tests.conftest import SERVICE_PORTS, TEST_STATE
from tests.support import as_registrant, bearer, eventually, prometheus_samples, registration

pytestmark = pytest.mark.e2e
PORTS = SERVICE_PORTS
URLS = {name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}
OFFICER = bearer("officer", subject="officer-e2e")
LAB = {
    "lab_id": "e2e-lab",
    "name": "End-to-end Lab",
    "accredited": True,
    "accredited_until": "2030-01-01",
    "domains": ["chem_bio", "cyber_offence", "autonomy_ai_rnd", "persuasion", "safeguard_robustness"],
    "capacity": 100_000,
    "affiliations": [],
}


def _start(infra: Infrastructure, name: str) -> ServiceProcess:
    return start_service(
        name,
        state_dir=TEST_STATE,
        database_url=infra.database_url,
        bootstrap_servers=infra.bootstrap_servers,
        port=PORTS[name],
        extra_env={"OUTBOX_POLL_SECONDS": "0.2"},
    )


@pytest.fixture(scope="module")
def registry(infra: Infrastructure) -> Iterator[dict[str, ServiceProcess]]:
    processes = {name: _start(infra, name) for name in SERVICE_NAMES}
    wait_ready(processes.values())
    httpx.put(
        f"{URLS['evaluations']}/v1/labs/e2e-lab", json=LAB, headers=bearer("admin"), timeout=10
    ).raise_for_status()
    yield processes
    stop_services(TEST_STATE)


async def _count(database_url: str, sql: str, registry_ids: list[str]) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, registry_ids))
    finally:
        await conn.close()


COUNTS = {
    "intake": "SELECT count(*) FROM intake.model_versions WHERE registry_id = ANY($1)",
    "verification": "SELECT count(*) FROM verification.verifications WHERE registry_id = ANY($1)",
    "evaluations": "SELECT count(*) FROM evaluations.plans WHERE registry_id = ANY($1)",
    "enforcement": "SELECT count(*) FROM enforcement.decisions WHERE registry_id = ANY($1)",
}


async def test_one_filing_is_one_trace_across_all_four_services(
    infra: Infrastructure, registry: dict[str, ServiceProcess]
) -> None:
    trace_id = secrets.token_hex(16)
    body = registration(understated_by=10)
    headers = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01", **as_registrant(body)}
    async with httpx.AsyncClient(timeout=10) as client:
        accepted = await client.post(f"{URLS['intake']}/v1/registrations", json=body, headers=headers)
        assert accepted.status_code == 201, accepted.text
        registry_id = accepted.json()["registry_id"]

        async def case_opened() -> Any:
            response = await client.get(
                f"{URLS['enforcement']}/v1/cases", params={"registry_id": registry_id}, headers=bearer("officer")
            )
            return response.json()

        cases = await eventually(case_opened, what="the case")
        assert cases[0]["rule"] == "compute_discrepancy"

    traces = TEST_STATE / "logs" / "traces.jsonl"

    async def spans_from_every_service() -> Any:
        spans = [json.loads(line) for line in traces.read_text().splitlines() if trace_id in line]
        services = {s["service"] for s in spans if s["trace_id"] == trace_id}
        return services if services >= set(SERVICE_NAMES) else None

    await eventually(spans_from_every_service, what="spans of the filing's trace from all four services")


async def test_every_accepted_filing_reaches_every_service_once_despite_sigkill(
    infra: Infrastructure, registry: dict[str, ServiceProcess]
) -> None:
    accepted: list[str] = []
    total = 60

    async def file_all() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            for index in range(total):
                body = registration(understated_by=10 if index % 3 == 0 else 1)
                try:
                    response = await client.post(
                        f"{URLS['intake']}/v1/registrations", json=body, headers=as_registrant(body)
                    )
                except httpx.HTTPError:
                    continue  # intake was being killed: not accepted, so nothing is owed
                if response.status_code == 201:
                    accepted.append(response.json()["registry_id"])
                await asyncio.sleep(0.02)

    filing = asyncio.create_task(file_all())
    for victim in ("verification", "enforcement", "evaluations", "intake"):
        await eventually(lambda: asyncio.sleep(0, result=len(accepted) > 5), what="filings under way")
        assert kill_service(TEST_STATE, victim) is not None, f"{victim} was not running"
        await asyncio.sleep(0.3)  # let work pile up while it is down
        restarted = _start(infra, victim)
        await asyncio.to_thread(wait_ready, [restarted])
    await filing
    assert len(accepted) >= total * 0.8, f"only {len(accepted)} of {total} filings were accepted"

    for service, sql in COUNTS.items():

        async def all_arrived(service: str = service, sql: str = sql) -> Any:
            return await _count(infra.database_url, sql, accepted) >= len(accepted)

        await eventually(all_arrived, within=90, what=f"every accepted filing in {service}")
        assert await _count(infra.database_url, sql, accepted) == len(accepted), f"{service} did something twice"
    cases = await _count(
        infra.database_url, "SELECT count(*) FROM enforcement.cases WHERE registry_id = ANY($1)", accepted
    )
    decided_cases = await _count(
        infra.database_url,
        "SELECT count(*) FROM enforcement.decisions WHERE registry_id = ANY($1) AND decision = 'case_opened'",
        accepted,
    )
    assert cases == decided_cases > 0


async def _plans(client: httpx.AsyncClient, registry_id: str) -> Any:
    answer = await client.get(f"{URLS['evaluations']}/v1/plans/{registry_id}", headers=OFFICER)
    return answer.json() if answer.status_code == 200 else None


async def _below_thresholds_and_planned(client: httpx.AsyncClient) -> str:
    """A registration of 6.3e24 FLOP (a tier that requires no evaluation by itself), once evaluations knows it."""
    body = registration()
    accepted = await client.post(f"{URLS['intake']}/v1/registrations", json=body, headers=as_registrant(body))
    assert accepted.status_code == 201, accepted.text
    registry_id: str = accepted.json()["registry_id"]
    first = await eventually(lambda: _plans(client, registry_id), what="evaluations to know the verified model")
    assert first["requests"] == []
    return registry_id


async def test_a_regulator_request_reaches_the_lab_and_every_service_is_scrapable(
    infra: Infrastructure, registry: dict[str, ServiceProcess]
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        registry_id = await _below_thresholds_and_planned(client)
        order = {"reference": f"ORDER-{secrets.token_hex(3)}", "extra_domains": ["cyber_offence"], "reason": "e2e"}
        requested = await client.post(
            f"{URLS['evaluations']}/v1/plans/{registry_id}/regulator-requests", json=order, headers=OFFICER
        )
        assert requested.status_code == 201, requested.text
        [request] = requested.json()["requests"]
        assert request["domain"] == "cyber_offence"

        # The lab sees it (here through its HTTP fallback, which lists what its Kafka topic carries), redacted.
        lab = bearer("lab", lab=request["lab_id"])

        async def on_the_labs_list() -> Any:
            answer = await client.get(f"{URLS['evaluations']}/v1/labs/{request['lab_id']}/requests", headers=lab)
            return next((r for r in answer.json() if r["request_id"] == request["request_id"]), None)

        listed = await eventually(on_the_labs_list, what="the request on the lab's list")
        assert listed["registry_id"] == registry_id and "developer" not in listed

        for name in SERVICE_NAMES:
            scraped = await client.get(f"{URLS[name]}/metrics", headers={"Accept": "text/plain"})
            samples = prometheus_samples(scraped.text)
            assert samples[f'registry_outbox_backlog{{service="{name}"}}'] >= 0, name
        planned_now = prometheus_samples(
            (await client.get(f"{URLS['evaluations']}/metrics", params={"format": "prometheus"})).text
        )
        assert planned_now['registry_evaluation_requests{service="evaluations",status="open"}'] >= 1


async def test_a_designated_model_is_re_verified_and_gets_the_evaluations_its_new_tier_requires(
    infra: Infrastructure, registry: dict[str, ServiceProcess]
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        registry_id = await _below_thresholds_and_planned(client)
        designated = await client.post(
            f"{URLS['intake']}/v1/registrations/{registry_id}/designation",
            json={"designated": True, "reason": "general-purpose reach"},
            headers=OFFICER,
        )
        assert designated.status_code == 201, designated.text

        async def reportable_domains_requested() -> Any:
            planned = await _plans(client, registry_id)
            domains = sorted(r["domain"] for r in planned["requests"]) if planned else []
            return domains or None

        domains = await eventually(reportable_domains_requested, what="the designated model's evaluations")
        assert domains == ["chem_bio", "cyber_offence", "safeguard_robustness"]  # the reportable tier's
        verified = await client.get(f"{URLS['verification']}/v1/verifications/{registry_id}", headers=OFFICER)
        assert "designat" in verified.text
