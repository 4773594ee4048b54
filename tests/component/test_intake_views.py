"""Who may see what: one redaction for every view, organisation scoping, restricted fields sealed at rest,
and the public lookup: signed once per standing change, verifiable offline with the published key."""

from __future__ import annotations

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
from tests.support import bearer, fresh_organisation, running

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
