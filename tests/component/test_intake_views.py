"""Who may see what: one redaction for every view, organisation scoping, restricted fields sealed at rest,
and the public lookup: signed once per standing change, verifiable offline with the published key."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from registry_contracts import new_envelope
from registry_contracts.events.enforcement import Standing, StandingChanged
from services.intake import store
from services.plumbing.inbox import Disposition, IncomingMessage
from tests.component.intake_support import (
    cleared_officer,
    events_about,
    full_registration,
    hours_ago,
    intake_app,
    intake_rows,
    registrant,
    training_notice,
)
from tests.support import bearer, eventually, fresh_organisation, running

pytestmark = pytest.mark.component
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
async def intake(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = intake_app(infra, tmp_path_factory.mktemp("intake-views"))
    async with running(app) as (client,):
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def model(intake: httpx.AsyncClient) -> dict[str, Any]:
    body = full_registration()
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    assert accepted.status_code == 201, accepted.text
    return body | {"registry_id": accepted.json()["registry_id"]}


async def test_each_audience_sees_its_own_projection(intake: httpx.AsyncClient, model: dict[str, Any]) -> None:
    path = f"/v1/registrations/{model['registry_id']}"
    owner = (await intake.get(path, headers=registrant(model["developer"]))).json()["filing"]
    staff = (await intake.get(path, headers=bearer("analyst"))).json()["filing"]
    cleared = (await intake.get(path, headers=cleared_officer())).json()["filing"]
    public = (await intake.get(f"/v1/public/registrations/{model['registry_id']}")).json()
    for view in (owner, staff):
        assert view["compute"]["parameters"] == model["compute"]["parameters"]
        assert "security_of_weights" not in view and view["restricted_fields"] == ["security_of_weights"]
    assert cleared["security_of_weights"] == model["security_of_weights"]
    assert public["model_name"] == model["model_name"] and public["tier"] == "near_threshold"
    assert public["training_data"] == {"public_summary": "public web text and licensed data"}
    assert public["evaluations"] == {"summary": "no dangerous capability found"}
    for secret in ("compute", "organisation_details", "energy_kwh", "red_teaming", "architecture_details"):
        assert secret not in public and secret in public["withheld_fields"]
    assert "restricted_fields" not in public


async def test_filings_and_confidential_reads_are_in_the_audit_log(intake: httpx.AsyncClient, model: dict) -> None:
    registry_id = model["registry_id"]
    auditor = bearer("analyst", subject="auditor-1")

    async def entries() -> list[tuple[str, str, str]]:
        found = (await intake.get("/v1/audit", params={"subject": registry_id}, headers=auditor)).json()
        found += (await intake.get("/v1/audit", params={"subject": f"{registry_id}/v1"}, headers=auditor)).json()
        return sorted((e["action"], e["actor"], e["subject"]) for e in found)

    assert await entries() == [("filing.registration", "test-registrant", registry_id)]
    await intake.get(f"/v1/registrations/{registry_id}", headers=registrant(model["developer"]))
    await intake.get(f"/v1/registrations/{registry_id}", headers=cleared_officer())
    await intake.get(f"/v1/public/registrations/{registry_id}")  # public: nothing confidential, not logged
    logged = await entries()
    assert [a for a, _, _ in logged] == ["filing.registration", "read.confidential", "read.restricted"]
    assert logged[2][1] == "officer-cleared"
    assert (await intake.get("/v1/audit/verify", headers=registrant(model["developer"]))).status_code == 403
    assert (await intake.get("/v1/audit/verify", headers=auditor)).json()["intact"] is True


async def test_restricted_fields_are_encrypted_at_rest(
    infra: Infrastructure, intake: httpx.AsyncClient, model: dict
) -> None:
    report = {"category": "loss_of_control", "imminent_risk": False, "discovered_at": hours_ago(2)}
    report |= {"narrative": "the model copied itself to an unlisted server", "actions_taken": "rotated credentials"}
    filed = await intake.post(
        f"/v1/registrations/{model['registry_id']}/incidents", json=report, headers=registrant(model["developer"])
    )
    incident_id = filed.json()["incident_id"]
    rows = await intake_rows(
        infra, "SELECT record::text AS clear, restricted FROM filings WHERE filing_id = $1", incident_id
    )
    versions = await intake_rows(
        infra,
        "SELECT filing::text AS clear, restricted FROM model_versions WHERE registry_id = $1",
        model["registry_id"],
    )
    for row in rows + versions:
        stored = row["clear"].encode() + bytes(row["restricted"])
        assert b"unlisted server" not in stored and b"HSM-backed" not in stored
    owner = (await intake.get(f"/v1/filings/{incident_id}", headers=registrant(model["developer"]))).json()
    assert "narrative" not in owner and owner["restricted_fields"] == ["actions_taken", "narrative"]
    cleared = (await intake.get(f"/v1/filings/{incident_id}", headers=cleared_officer())).json()
    assert cleared["narrative"] == report["narrative"] and cleared["actions_taken"] == "rotated credentials"


async def test_a_registrant_cannot_read_or_file_for_another_organisation(
    intake: httpx.AsyncClient, model: dict
) -> None:
    stranger = registrant(fresh_organisation())
    registry_id = model["registry_id"]
    notice = await intake.post(
        "/v1/training-notices", json=training_notice(model["developer"]), headers=registrant(model["developer"])
    )
    notice_id = notice.json()["notice_id"]
    reads = [
        f"/v1/registrations/{registry_id}",
        f"/v1/registrations/{registry_id}/versions/1",
        f"/v1/registrations/{registry_id}/filings",
        f"/v1/filings/{notice_id}",
    ]
    for path in reads:
        guessed = await intake.get(path, headers=stranger)
        assert guessed.status_code == 404, path
        assert guessed.json()["title"] == "Not found"
    writes = {
        "amendments": {"kind": "other", "description": "hijack"},
        "status-changes": {"status": "withdrawn", "markets": ["GB"], "effective_date": "2026-01-01"},
        "incidents": {"category": "other", "imminent_risk": False, "discovered_at": hours_ago(1), "narrative": "x"},
    }
    for kind, body in writes.items():
        refused = await intake.post(f"/v1/registrations/{registry_id}/{kind}", json=body, headers=stranger)
        assert refused.status_code == 404, kind
    taken = await intake.post(
        "/v1/registrations",
        json=full_registration(fresh_organisation(), training_notice_id=notice_id),
        headers=stranger,
    )
    assert taken.status_code == 403
    listing = await intake.get("/v1/registrations", headers=stranger)
    assert listing.json() == []
    own = await intake.get("/v1/registrations", headers=registrant(model["developer"]))
    assert [m["registry_id"] for m in own.json()] == [registry_id]


async def _lookup(intake: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await intake.get(path)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_public_lookup_is_signed_once_per_standing_change(
    intake: httpx.AsyncClient, model: dict, tmp_path: Path
) -> None:
    registry_id = model["registry_id"]
    first = await _lookup(intake, f"/v1/public/standing/{registry_id}")
    again = await _lookup(
        intake, f"/v1/public/standing?developer={model['developer']['legal_name']}&model={model['model_name']}"
    )
    assert first == again and first["answer"]["standing"] == "registered_good_standing"
    key = (await intake.get("/v1/public/signing-key.pem")).text
    (tmp_path / "pub.pem").write_text(key)
    (tmp_path / "answer.json").write_text(json.dumps(first))
    assert _verify(tmp_path / "answer.json", tmp_path / "pub.pem").returncode == 0

    state = intake.app.state.service  # type: ignore[attr-defined]
    change = StandingChanged(
        registry_id=registry_id,
        standing=Standing.SUSPENDED,
        reasons=["compliance order not met"],
        case_ids=["ENF-1"],
        effective_at=datetime.now(UTC),
    )
    envelope = new_envelope(change, subject=registry_id)
    message = IncomingMessage(
        "enforcement.standing.v1", 0, 1, registry_id.encode(), envelope.model_dump_json().encode(), {}
    )
    assert await state.consumer.process(message) is Disposition.PROCESSED
    assert await state.consumer.process(message) is Disposition.DUPLICATE
    suspended = await _lookup(intake, f"/v1/public/standing/{registry_id}")
    assert suspended["answer"]["standing"] == "suspended"
    assert suspended["answer"]["reasons"] == ["compliance order not met"]
    assert suspended["signature"] != first["signature"]
    assert suspended == await _lookup(intake, f"/v1/public/standing/{registry_id}")

    tampered = first | {"answer": first["answer"] | {"standing": "registered_good_standing", "model_name": "x"}}
    (tmp_path / "answer.json").write_text(json.dumps(tampered))
    result = _verify(tmp_path / "answer.json", tmp_path / "pub.pem")
    assert result.returncode == 2 and "does not match" in result.stdout


async def test_an_answer_is_signed_on_first_lookup_and_any_change_drops_it(
    infra: Infrastructure, intake: httpx.AsyncClient, model: dict
) -> None:
    registry_id = model["registry_id"]

    async def stored() -> str | None:
        rows = await intake_rows(infra, "SELECT signed_answer FROM models WHERE registry_id = $1", registry_id)
        answer: str | None = rows[0]["signed_answer"]
        return answer

    assert await stored() is None  # the filing itself signs nothing
    first = await _lookup(intake, f"/v1/public/standing/{registry_id}")
    assert json.loads(await stored() or "null") == first
    assert await _lookup(intake, f"/v1/public/standing/{registry_id}") == first  # the stored copy, not a new one

    await intake_rows(infra, "UPDATE models SET tier = 'frontier' WHERE registry_id = $1", registry_id)
    assert await stored() is None  # any change of a stated field drops the stored answer (database trigger)
    await intake_rows(infra, "UPDATE models SET created_at = now() WHERE registry_id = $1", registry_id)
    assert await stored() is None

    # A lookup that read the row before a change must not store its now stale answer.
    state = intake.app.state.service  # type: ignore[attr-defined]
    before = await store.standing_row(state.db, registry_id)
    await intake_rows(infra, "UPDATE models SET standing = 'suspended' WHERE registry_id = $1", registry_id)
    assert await state.extras["signer"].current(state.db, before)  # served once, as read
    assert await stored() is None
    state.extras["answer_cache"].forget(registry_id)
    now = await _lookup(intake, f"/v1/public/standing/{registry_id}")
    assert now["answer"]["standing"] == "suspended" and now["answer"]["tier"] == "frontier"
    assert json.loads(await stored() or "null") == now


async def test_the_lookup_fast_path_hands_over_to_the_framework_when_it_fails(
    intake: httpx.AsyncClient, model: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/v1/public/standing/{model['registry_id']}"
    fast = await _lookup(intake, path)
    cache = intake.app.state.service.extras["answer_cache"]  # type: ignore[attr-defined]

    async def broken(*args: object) -> bytes:
        raise ConnectionError("cache backend unreachable")

    monkeypatch.setattr(cache, "get", broken)
    assert await _lookup(intake, path) == fast  # the same stored answer, through the routed endpoint
    unknown = await _lookup(intake, "/v1/public/standing/FMR-1999-999999")
    assert unknown["answer"]["standing"] == "unknown"


async def test_a_change_made_anywhere_reaches_every_replicas_cached_answer(
    infra: Infrastructure, intake: httpx.AsyncClient, model: dict, tmp_path: Path
) -> None:
    registry_id = model["registry_id"]
    path = f"/v1/public/standing/{registry_id}"
    cache = intake.app.state.service.extras["answer_cache"]  # type: ignore[attr-defined]
    await eventually(lambda: _true(cache._trusted), what="the lookup cache to follow change notifications")
    assert (await _lookup(intake, path))["answer"]["standing"] == "registered_good_standing"
    assert registry_id in cache._answers  # cached in this process

    async with running(intake_app(infra, tmp_path)) as (other_replica,):
        assert (await _lookup(other_replica, path))["answer"]["standing"] == "registered_good_standing"
        # A change this process never sees as an event (another replica, an operator): the database says so.
        await intake_rows(infra, "UPDATE models SET status = 'withdrawn' WHERE registry_id = $1", registry_id)

        async def withdrawn_everywhere() -> bool:
            answers = [await _lookup(client, path) for client in (intake, other_replica)]
            return all(a["answer"]["status"] == "withdrawn" for a in answers)

        await eventually(withdrawn_everywhere, within=10, what="both replicas to answer with the change")


async def test_without_change_notifications_the_cache_is_bypassed_until_they_return(
    infra: Infrastructure, intake: httpx.AsyncClient, model: dict
) -> None:
    registry_id = model["registry_id"]
    path = f"/v1/public/standing/{registry_id}"
    cache = intake.app.state.service.extras["answer_cache"]  # type: ignore[attr-defined]
    await eventually(lambda: _true(cache._trusted), what="the lookup cache to follow change notifications")
    await _lookup(intake, path)
    listeners = await intake_rows(
        infra,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%intake_answer_changed%'",
    )
    assert listeners and all(r["pg_terminate_backend"] for r in listeners)
    await eventually(lambda: _true(not cache._trusted), within=10, what="the cache to stop trusting itself")
    assert not cache._answers
    await intake_rows(infra, "UPDATE models SET tier = 'frontier' WHERE registry_id = $1", registry_id)
    assert (await _lookup(intake, path))["answer"]["tier"] == "frontier"  # read through, not from memory
    await eventually(lambda: _true(cache._trusted), within=15, what="the notifications to be followed again")
    await intake_rows(infra, "UPDATE models SET tier = 'near_threshold' WHERE registry_id = $1", registry_id)
    await eventually(
        lambda: _is(_lookup(intake, path), lambda a: a["answer"]["tier"] == "near_threshold"),
        within=10,
        what="the change to reach the cached answer",
    )


async def _true(value: bool) -> bool:
    return value


async def _is(answer: Any, test: Any) -> bool:
    return bool(test(await answer))


async def test_registry_numbers_are_unique_under_concurrent_filings_and_count_per_year(
    infra: Infrastructure, intake: httpx.AsyncClient
) -> None:
    organisation = fresh_organisation()
    bodies = [full_registration(organisation, model_name=f"parallel-{n}") for n in range(12)]
    answers = await asyncio.gather(
        *(intake.post("/v1/registrations", json=body, headers=registrant(organisation)) for body in bodies)
    )
    ids = [a.json()["registry_id"] for a in answers]
    assert all(a.status_code == 201 for a in answers) and len(set(ids)) == 12
    year = datetime.now(UTC).year
    assert all(i.startswith(f"FMR-{year}-") for i in ids)
    series = f"test{uuid.uuid4().hex[:8]}"  # a series of its own: this database may have run the tests before
    numbers = [
        (await intake_rows(infra, "SELECT next_number($1, $2) AS n", series, y))[0]["n"] for y in (2025, 2025, 2026)
    ]
    assert numbers == [1, 2, 1]  # each year starts its own series
    later = await intake_rows(infra, "SELECT next_number('registry', $1) AS n", year)
    assert later[0]["n"] > max(int(i.rsplit("-", 1)[1]) for i in ids)


async def test_an_unknown_model_is_a_signed_unknown_and_a_usage_report(
    infra: Infrastructure, intake: httpx.AsyncClient
) -> None:
    name = f"ghost-{uuid.uuid4().hex[:6]}"
    answer = await _lookup(intake, f"/v1/public/standing?developer=Nobody Ltd&model={name}")
    assert answer["answer"]["standing"] == "unknown" and answer["signature"]["algorithm"] == "Ed25519"
    assert await events_about(infra, f"unregistered:nobody ltd/{name}") == ["UsageReported"]


def _verify(answer: Path, key: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.intake.cli", "verify", str(answer), "--key", str(key)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
