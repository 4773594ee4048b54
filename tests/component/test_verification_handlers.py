"""Verification's handlers on the real database: each filing type delivered twice has one effect, attestations
are used whichever arrives first, unknown chips and unusable inputs are insufficient evidence (never a crash),
an extra chip catalogue from CHIP_CATALOGUE_EXTRA is used end to end, and the regulator's designation of a model
re-verifies it (or waits for its registration) and stays with its amendments."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import EventData, new_envelope
from services.plumbing.inbox import Disposition, IncomingMessage
from services.plumbing.service import ServiceState
from services.verification.app import create_app
from services.verification.settings import VerificationSettings
from tests.component.verification_support import (
    ATTESTED_FLOP,
    amendment,
    attestation,
    designation,
    developer,
    registration,
    training_notice,
)
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component
EXTRA_CHIP = {"name": "Acme Tensor 1", "peak_flops": {"bf16_fp16_tensor": 1e15}}


@pytest.fixture(scope="module")
async def verification(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    extra = tmp_path_factory.mktemp("chips") / "extra-chips.json"
    extra.write_text(json.dumps({"chips": [EXTRA_CHIP], "aliases": {"acme t1": "Acme Tensor 1"}}))
    app = create_app(service_settings(VerificationSettings, infra, chip_catalogue_extra=str(extra)))
    async with running(app) as (client,):
        client.headers.update(bearer("officer"))
        yield app, client


def _message(event: EventData, subject: str) -> IncomingMessage:
    envelope = new_envelope(event, subject=subject)
    return IncomingMessage(
        topic="intake.filings.v1",
        partition=0,
        offset=1,
        key=subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers={},
    )


def _state(app: FastAPI) -> ServiceState:
    state: ServiceState = app.state.service
    assert state.consumer is not None
    return state


async def deliver(app: FastAPI, event: EventData, subject: str, *, times: int = 1) -> None:
    """Process one filing event `times` times; only the first may have an effect."""
    consumer = _state(app).consumer
    assert consumer is not None
    message = _message(event, subject)
    assert await consumer.process(message) is Disposition.PROCESSED
    for _ in range(times - 1):
        assert await consumer.process(message) is Disposition.DUPLICATE


async def count(app: FastAPI, sql: str, *args: Any) -> int:
    return int(await _state(app).db.fetchval(sql, *args))


async def runs(client: httpx.AsyncClient, registry_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/verifications/{registry_id}")
    assert response.status_code == 200, response.text
    verifications: list[dict[str, Any]] = response.json()["verifications"]
    return verifications


async def test_a_registration_delivered_twice_is_verified_once(verification: tuple[FastAPI, Any]) -> None:
    app, _ = verification
    filing = registration(developer(), parameters=70e9, training_tokens=15e12, declared=6.3e24)
    await deliver(app, filing, filing.registry_id, times=2)
    assert await count(app, "SELECT count(*) FROM declarations WHERE registry_id = $1", filing.registry_id) == 1
    assert await count(app, "SELECT count(*) FROM verifications WHERE registry_id = $1", filing.registry_id) == 1
    assert await count(app, "SELECT count(*) FROM outbox WHERE aggregateid = $1", filing.registry_id) == 1
    audited = "SELECT count(*) FROM audit_log WHERE subject = $1 AND action = 'decision.compute_verified'"
    assert await count(app, audited, filing.registry_id) == 1  # the decision, logged once


async def test_an_amendment_delivered_twice_is_verified_once_against_the_record(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    base = registration(developer(), parameters=70e9, training_tokens=15e12, declared=6.3e24)
    await deliver(app, base, base.registry_id)
    change = amendment(base, own=1e24)
    await deliver(app, change, base.registry_id, times=2)
    assert await count(app, "SELECT count(*) FROM verifications WHERE registry_id = $1", base.registry_id) == 2
    assert await count(app, "SELECT count(*) FROM outbox WHERE aggregateid = $1", base.registry_id) == 2
    second = (await runs(client, base.registry_id))[1]
    assert (second["version"], second["run"], second["trigger"]) == (2, 1, "amendment")
    assert second["status"] == "consistent"
    assert second["cumulative_declared_flop"] == pytest.approx(7.3e24)
    record = next(e for e in second["estimates"] if e["method"] == "record")
    assert record["flop"] == pytest.approx(7.3e24)


async def test_an_amendment_whose_cumulative_hides_earlier_compute_is_a_discrepancy(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    base = registration(developer(), declared=1.2e25)
    await deliver(app, base, base.registry_id)
    await deliver(app, amendment(base, own=None, cumulative=8e24), base.registry_id)  # no training, total shrank
    second = (await runs(client, base.registry_id))[1]
    assert second["status"] == "discrepancy"
    assert (second["declared_tier"], second["verified_tier"]) == ("near_threshold", "reportable")
    assert second["threshold_flop"] == pytest.approx(1e25)  # jsonb keeps numbers as numeric
    assert "version 1 on record 1.2e25" in second["explanation"]


async def test_an_attestation_delivered_twice_adds_one_run(verification: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, _ = verification
    dev = developer()
    filing = registration(dev, declared=ATTESTED_FLOP / 10)
    await deliver(app, filing, filing.registry_id)
    attested = attestation(dev)
    await deliver(app, attested, f"org:{dev.organisation_id}", times=2)
    assert await count(app, "SELECT count(*) FROM attestations WHERE organisation_id = $1", dev.organisation_id) == 1
    assert await count(app, "SELECT count(*) FROM verifications WHERE registry_id = $1", filing.registry_id) == 2
    assert await count(app, "SELECT count(*) FROM outbox WHERE aggregateid = $1", filing.registry_id) == 2
    assert await count(app, "SELECT count(*) FROM attestation_uses WHERE registry_id = $1", filing.registry_id) == 1


async def test_a_training_notice_delivered_twice_is_kept_once_and_checked_at_registration(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    dev = developer()
    filing = registration(dev, declared=1e24, parameters=70e9, training_tokens=1e24 / (6 * 70e9))
    notice = training_notice(dev, filing.registry_id, planned=5e25)
    await deliver(app, notice, filing.registry_id, times=2)
    assert await count(app, "SELECT count(*) FROM training_notices WHERE registry_id = $1", filing.registry_id) == 1
    await deliver(app, filing, filing.registry_id)
    first = (await runs(client, filing.registry_id))[0]
    assert first["status"] == "consistent"  # a plan is not evidence: a note, not a discrepancy
    assert f"training notice {notice.notice_id} planned 5e25 FLOP, 50x the declared 1e24 FLOP" in first["explanation"]


async def test_an_attestation_that_arrives_first_is_used_by_the_registration(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    dev = developer()
    attested = attestation(dev)
    await deliver(app, attested, f"org:{dev.organisation_id}")
    filing = registration(dev, declared=ATTESTED_FLOP / 10)
    await deliver(app, filing, filing.registry_id)
    (only,) = await runs(client, filing.registry_id)
    assert (only["run"], only["trigger"], only["status"]) == (1, "filing", "discrepancy")
    used = next(e for e in only["estimates"] if e["method"] == "attestation")
    assert used["flop"] == pytest.approx(ATTESTED_FLOP)
    assert "attestation estimate" in only["explanation"] and "exceeds it by 10x" in only["explanation"]
    listed = (await client.get("/v1/attestations", params={"organisation_id": dev.organisation_id})).json()
    assert listed["attestations"][0]["used_by"] == [{"registry_id": filing.registry_id, "version": 1, "run": 1}]


async def test_an_attestation_that_arrives_later_reverifies_the_version(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    dev = developer()
    filing = registration(dev, declared=ATTESTED_FLOP / 10)  # no architecture or hardware inputs
    await deliver(app, filing, filing.registry_id)
    assert [r["status"] for r in await runs(client, filing.registry_id)] == ["insufficient_evidence"]
    await deliver(app, attestation(dev), f"org:{dev.organisation_id}")
    _, second = await runs(client, filing.registry_id)
    assert (second["version"], second["run"], second["trigger"]) == (1, 2, "attestation")
    assert second["status"] == "discrepancy"
    assert second["tolerance_factor"] == 2.0
    assert second["threshold_flop"] == pytest.approx(1e25)  # jsonb keeps numbers as numeric
    assert second["verified_tier"] == "reportable"
    assert any(m["matched"] for m in second["attestation_matches"])
    published = await _state(app).db.fetchval(
        "SELECT payload FROM outbox WHERE aggregateid = $1 ORDER BY seq DESC LIMIT 1", filing.registry_id
    )
    data = json.loads(published)["data"]
    assert (data["run"], data["trigger"], data["status"]) == (2, "attestation", "discrepancy")


async def test_an_attestation_of_another_run_does_not_reverify(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    dev = developer()
    filing = registration(dev)
    await deliver(app, filing, filing.registry_id)
    elsewhere = attestation(dev, period_start=date(2025, 1, 1), period_end=date(2025, 2, 1))
    await deliver(app, elsewhere, f"org:{dev.organisation_id}")
    assert len(await runs(client, filing.registry_id)) == 1
    listed = (await client.get("/v1/attestations", params={"organisation_id": dev.organisation_id})).json()
    assert [(a["attestation_id"], a["used_by"]) for a in listed["attestations"]] == [(elsewhere.attestation_id, [])]


async def test_unknown_chips_give_insufficient_evidence_never_a_crash(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    dev = developer()
    filing = registration(dev, declared=1e25, chip_type="Zeta Quantum 9", chip_count=1000, training_hours=2000)
    await deliver(app, filing, filing.registry_id)
    await deliver(app, attestation(dev, chip_type="Zeta Quantum 9"), f"org:{dev.organisation_id}")
    first, second = await runs(client, filing.registry_id)
    assert first["status"] == second["status"] == "insufficient_evidence"
    assert "unknown chip 'Zeta Quantum 9'" in first["explanation"]
    assert any("unknown chip 'Zeta Quantum 9'" in r for r in second["reasons"])


async def test_an_unusable_declaration_is_insufficient_evidence_with_the_reason(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    filing = registration(developer(), declared=1e25, number_format="FP7")
    await deliver(app, filing, filing.registry_id)
    (only,) = await runs(client, filing.registry_id)
    assert only["status"] == "insufficient_evidence"
    assert "could not be checked: number_format: unknown number format 'FP7'" in only["explanation"]


async def test_chips_from_chip_catalogue_extra_are_used(verification: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = verification
    # 1,000 chips x 1e15 FLOP/s x 1,000 h x 0.4 = 1.44e24 FLOP
    filing = registration(
        developer(),
        declared=1.44e24,
        chip_type="Acme T1",
        chip_count=1000,
        training_hours=1000,
        declared_utilisation=0.4,
    )
    await deliver(app, filing, filing.registry_id)
    (only,) = await runs(client, filing.registry_id)
    assert only["status"] == "consistent"
    hardware = next(e for e in only["estimates"] if e["method"] == "hardware")
    assert hardware["flop"] == pytest.approx(1.44e24)
    assert any("read as catalogue entry 'Acme Tensor 1'" in r for r in hardware["reasons"])


async def test_designation_and_base_model_compute_decide_the_declared_tier(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    designated = registration(developer(), declared=1e22).model_copy(update={"designated": True})
    derived = registration(developer(), declared=5e24).model_copy(update={"base_model_training_flop": 8e24})
    for filing in (designated, derived):
        await deliver(app, filing, filing.registry_id)
    assert (await runs(client, designated.registry_id))[0]["declared_tier"] == "reportable"
    (derived_run,) = await runs(client, derived.registry_id)
    assert derived_run["declared_tier"] == "reportable"
    assert derived_run["cumulative_declared_flop"] == pytest.approx(1.3e25)


async def test_outcomes_list_the_latest_run_of_each_version(verification: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = verification
    dev = developer()
    filing = registration(dev, declared=ATTESTED_FLOP / 10)
    await deliver(app, filing, filing.registry_id)
    await deliver(app, attestation(dev), f"org:{dev.organisation_id}")
    response = await client.get("/v1/outcomes", params={"limit": 1000}, headers=bearer("analyst"))
    assert response.status_code == 200
    mine = [o for o in response.json()["outcomes"] if o["registry_id"] == filing.registry_id]
    assert len(mine) == 1
    assert mine[0]["run"] == 2 and mine[0]["status"] == "discrepancy"
    assert mine[0]["declared_flop"] == pytest.approx(ATTESTED_FLOP / 10)
    assert mine[0]["max_estimate_flop"] == pytest.approx(ATTESTED_FLOP)
    assert (mine[0]["declared_tier"], mine[0]["verified_tier"]) == ("below", "reportable")


async def test_bad_or_unauthorised_requests_are_refused_clearly(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = verification
    too_many = await client.get("/v1/outcomes", params={"limit": 0})
    assert too_many.status_code == 422 and too_many.headers["content-type"] == "application/problem+json"
    assert too_many.json()["errors"][0]["field"] == "query.limit"
    missing = await client.get("/v1/attestations")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "query.organisation_id"
    registrant = await client.get("/v1/outcomes", headers=bearer("registrant", org="org-x"))
    assert registrant.status_code == 403
    anonymous = await client.get("/v1/attestations?organisation_id=x", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    unknown = await client.get("/v1/verifications/FMR-0000-000000")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


# The regulator's designation (ModelDesignationChanged): 7e9 parameters x 1.5e13 tokens = 6.3e23 FLOP, below.
BELOW = {"declared": 6.3e23, "parameters": 7e9, "training_tokens": 1.5e13}


async def audited(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    """The verdicts verification logged for a model, oldest first."""
    rows = await _state(app).db.fetch(
        "SELECT detail FROM audit_log WHERE subject = $1 AND action = 'decision.compute_verified' ORDER BY seq",
        registry_id,
    )
    return [json.loads(r["detail"]) for r in rows]


async def published(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    """The ComputeVerified events waiting in the outbox for a model, oldest first."""
    rows = await _state(app).db.fetch("SELECT payload FROM outbox WHERE aggregateid = $1 ORDER BY seq", registry_id)
    return [json.loads(r["payload"])["data"] for r in rows]


async def test_a_designation_makes_a_model_below_the_thresholds_reportable_and_a_revocation_undoes_it(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    filing = registration(developer(), **BELOW)
    await deliver(app, filing, filing.registry_id)
    designated = designation(filing.registry_id, reason="systemic reach across the EU market")
    await deliver(app, designated, filing.registry_id, times=2)

    first, second = await runs(client, filing.registry_id)
    assert (first["trigger"], first["verified_tier"]) == ("filing", "below")
    assert (second["version"], second["run"], second["trigger"]) == (1, 2, "designation")
    assert (second["status"], second["declared_tier"], second["verified_tier"]) == (
        "consistent",
        "reportable",
        "reportable",
    )
    assert (
        f"designated by the regulator ({designated.designation_id} by officer-1 on 2026-05-02: systemic reach across"
        " the EU market): at least reportable regardless of compute" in second["explanation"]
    )
    assert (
        "designated by the regulator: at least reportable regardless of compute"
        in (second["outcome"]["details"]["verified_tier_reasons"])
    )
    events = await published(app, filing.registry_id)
    assert [(e["run"], e["trigger"], e["verified_tier"]) for e in events] == [
        (1, "filing", "below"),
        (2, "designation", "reportable"),
    ]

    revoked = designation(filing.registry_id, designated=False, days_after=30, reason="rebuttal upheld")
    await deliver(app, revoked, filing.registry_id, times=2)
    third = (await runs(client, filing.registry_id))[-1]
    assert (third["run"], third["trigger"], third["verified_tier"]) == (3, "designation", "below")
    assert f"designation revoked by the regulator ({revoked.designation_id}" in third["explanation"]
    assert "the tier follows the compute" in third["explanation"]
    assert len(await published(app, filing.registry_id)) == 3

    verdicts = await audited(app, filing.registry_id)  # one audit entry per verdict, the designation named
    assert [(v["run"], v["trigger"], v["verified_tier"], v.get("designation_id")) for v in verdicts] == [
        (1, "filing", "below", None),
        (2, "designation", "reportable", designated.designation_id),
        (3, "designation", "below", revoked.designation_id),
    ]
    recorded = "SELECT array_agg(event_id::text ORDER BY run) FROM verifications WHERE registry_id = $1"
    assert [v["event_id"] for v in verdicts] == await _state(app).db.fetchval(recorded, filing.registry_id)


async def test_a_decision_that_changes_nothing_has_no_effect(verification: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = verification
    filing = registration(developer(), **BELOW)
    await deliver(app, filing, filing.registry_id)
    first = designation(filing.registry_id, days_after=1)
    await deliver(app, first, filing.registry_id)
    # Another decision saying the same, and one decided before the decision in force (arriving late): kept only.
    await deliver(app, designation(filing.registry_id, days_after=2), filing.registry_id)
    await deliver(app, designation(filing.registry_id, designated=False, days_after=0), filing.registry_id)
    assert [(r["run"], r["trigger"]) for r in await runs(client, filing.registry_id)] == [
        (1, "filing"),
        (2, "designation"),
    ]
    assert len(await audited(app, filing.registry_id)) == 2
    effects = await _state(app).db.fetch(
        "SELECT designation_id, effect FROM designation_decisions WHERE registry_id = $1 ORDER BY received_at",
        filing.registry_id,
    )
    assert [e["effect"] for e in effects] == ["applied", "unchanged", "outdated"]
    in_force = "SELECT designation_id FROM model_designations WHERE registry_id = $1"
    assert await _state(app).db.fetchval(in_force, filing.registry_id) == first.designation_id


async def test_a_revocation_overrides_the_registrations_own_flag(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    filing = registration(developer(), **BELOW).model_copy(update={"designated": True})
    await deliver(app, filing, filing.registry_id)
    await deliver(app, designation(filing.registry_id, designated=False), filing.registry_id)
    first, second = await runs(client, filing.registry_id)
    assert (first["verified_tier"], second["trigger"], second["verified_tier"]) == (
        "reportable",
        "designation",
        "below",
    )


async def test_a_designation_before_the_registration_is_kept_and_applied_when_it_arrives(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    filing = registration(developer(), **BELOW)
    early = designation(filing.registry_id)
    await deliver(app, early, filing.registry_id, times=2)
    assert await count(app, "SELECT count(*) FROM verifications WHERE registry_id = $1", filing.registry_id) == 0
    assert await count(app, "SELECT count(*) FROM outbox WHERE aggregateid = $1", filing.registry_id) == 0
    kept = "SELECT count(*) FROM designation_decisions WHERE registry_id = $1 AND effect = 'applied'"
    assert await count(app, kept, filing.registry_id) == 1

    await deliver(app, filing, filing.registry_id, times=2)
    (only,) = await runs(client, filing.registry_id)
    assert (only["run"], only["trigger"], only["verified_tier"]) == (1, "filing", "reportable")
    assert f"designated by the regulator ({early.designation_id}" in only["explanation"]
    assert [(v["run"], v["trigger"]) for v in await audited(app, filing.registry_id)] == [(1, "filing")]


async def test_an_amendment_after_a_designation_stays_designated(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    base = registration(developer(), **BELOW)
    await deliver(app, base, base.registry_id)
    await deliver(app, designation(base.registry_id), base.registry_id)
    await deliver(app, amendment(base, own=1e22), base.registry_id, times=2)
    amended = (await runs(client, base.registry_id))[-1]
    assert (amended["version"], amended["run"], amended["trigger"]) == (2, 1, "amendment")
    assert amended["verified_tier"] == "reportable"
    assert "at least reportable regardless of compute" in amended["explanation"]
    kept = "SELECT count(*) FROM declarations WHERE registry_id = $1 AND version = 2 AND designated"
    assert await count(app, kept, base.registry_id) == 1

    # A revocation re-verifies the latest version, not the registration.
    await deliver(app, designation(base.registry_id, designated=False, days_after=30), base.registry_id)
    latest = (await runs(client, base.registry_id))[-1]
    assert (latest["version"], latest["run"], latest["trigger"], latest["verified_tier"]) == (
        2,
        2,
        "designation",
        "below",
    )
    assert await count(app, "SELECT count(*) FROM verifications WHERE registry_id = $1", base.registry_id) == 4


async def test_a_designation_applies_to_a_declaration_that_cannot_be_checked(
    verification: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = verification
    filing = registration(developer(), declared=1e22, number_format="FP7")
    await deliver(app, filing, filing.registry_id)
    decided = designation(filing.registry_id)
    await deliver(app, decided, filing.registry_id)
    first, second = await runs(client, filing.registry_id)
    assert (first["verified_tier"], second["status"], second["verified_tier"]) == (
        "below",
        "insufficient_evidence",
        "reportable",
    )
    assert "could not be checked: number_format: unknown number format 'FP7'" in second["explanation"]
    assert f"Note: designated by the regulator ({decided.designation_id}" in second["explanation"]
