"""The registrant CLI against a running intake process: submit from YAML, list, show, plain validation errors,
and the offline check of a signed public answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from devstack import Infrastructure
from tests.e2e.test_registry_e2e import URLS, registry  # noqa: F401 - the running registry fixture
from tests.support import bearer, fresh_organisation, registration

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGISTRY_URL": URLS["intake"]}
    if token:
        env["REGISTRY_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "services.intake.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


async def test_a_registrant_files_lists_and_shows_with_the_cli(
    infra: Infrastructure,
    registry: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    organisation = fresh_organisation()
    token = bearer("registrant", org=organisation["organisation_id"])["Authorization"].removeprefix("Bearer ")
    filing = tmp_path / "registration.yaml"
    filing.write_text(yaml.safe_dump(registration(organisation=organisation)))

    submitted = _cli("submit", str(filing), token=token)
    assert submitted.returncode == 0, submitted.stderr
    registry_id = json.loads(submitted.stdout)["registry_id"]

    listed = _cli("list", token=token)
    assert listed.returncode == 0 and registry_id in listed.stdout
    shown = _cli("show", registry_id, token=token)
    assert shown.returncode == 0 and registry_id in shown.stdout

    bad = tmp_path / "bad.yaml"
    body = registration(organisation=organisation)
    body["compute"]["declared_training_flop"] = -5
    bad.write_text(yaml.safe_dump(body))
    refused = _cli("submit", str(bad), token=token)
    assert refused.returncode != 0
    assert "compute.declared_training_flop" in refused.stdout + refused.stderr

    async with httpx.AsyncClient(base_url=URLS["intake"]) as client:  # the public side: no token
        answer = await client.get(f"/v1/public/standing/{registry_id}")
        assert answer.status_code == 200, answer.text
        (tmp_path / "answer.json").write_text(answer.text)
        (tmp_path / "registry.pub.pem").write_text((await client.get("/v1/public/signing-key.pem")).text)
    verified = _cli("verify", str(tmp_path / "answer.json"), "--key", str(tmp_path / "registry.pub.pem"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    tampered = json.loads((tmp_path / "answer.json").read_text())
    tampered["answer"]["standing"] = (
        "registered_good_standing" if tampered["answer"]["standing"] != "registered_good_standing" else "suspended"
    )
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert _cli("verify", str(tmp_path / "tampered.json"), "--key", str(tmp_path / "registry.pub.pem")).returncode == 2
