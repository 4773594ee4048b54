"""Property-based requests from intake's OpenAPI document (schemathesis) never cause a server error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import Infrastructure
from devstack.services import ServiceProcess, auth_dir, start_service, stop_services, wait_ready
from tests.conftest import PORT_BASE, TEST_STATE
from tests.support import bearer

pytestmark = pytest.mark.integration
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
PORT = PORT_BASE + 111  # not the e2e tests' intake port
STATE = TEST_STATE / "intake-schemathesis"


@pytest.fixture(scope="module")
def intake(infra: Infrastructure) -> Iterator[ServiceProcess]:
    assert SCHEMATHESIS.exists(), "schemathesis is missing: ./dev test installs the test extras"
    process = start_service(
        "intake",
        state_dir=STATE,
        database_url=infra.database_url,
        bootstrap_servers=infra.bootstrap_servers,
        port=PORT,
        extra_env={
            "AUTH_PUBLIC_KEYS_FILE": str(auth_dir(TEST_STATE) / "issuer.pub.pem"),
            "INTAKE_SIGNING_KEY_FILE": str(STATE / "signing.pem"),
        },
    )
    wait_ready([process])
    yield process
    stop_services(STATE)


def test_no_generated_request_causes_a_server_error(intake: ServiceProcess) -> None:
    # Bounded to a few seconds: the fuzzing phase only (the coverage phase adds ~1,700 cases and ~15 s).
    token = bearer("registrant", org="schemathesis-org")["Authorization"]
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{intake.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        "fuzzing",
        "--max-examples",
        "10",
        "--seed",
        "20260101",
        "--header",
        f"Authorization: {token}",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
