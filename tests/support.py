"""Helpers shared by the component, integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from devstack import Infrastructure
from devstack.services import auth_dir
from services.plumbing.tokens import generate_keypair, issue_token

T = TypeVar("T")


def service_settings(settings_class: type[T], infra: Infrastructure, **overrides: Any) -> T:
    """A service's settings pointed at the test stack (environment ignored, so tests are reproducible)."""
    _, public_key = generate_keypair(auth_dir(_test_state()))
    values: dict[str, Any] = {
        "auth_public_keys_file": str(public_key),
        "database_url": infra.database_url,
        "kafka_bootstrap_servers": infra.bootstrap_servers,
        "outbox_poll_seconds": 0.2,
        **overrides,
    }
    fields = getattr(settings_class, "model_fields", {})
    if "intake_restricted_key" in fields:  # intake refuses to start without its keys
        values.setdefault("intake_restricted_key", _test_restricted_key())
        values.setdefault("intake_signing_key_file", str(_test_state() / "intake" / "signing.pem"))
    return settings_class.from_env({}, **values)  # type: ignore[attr-defined, no-any-return]


def _test_state() -> Any:
    from tests.conftest import TEST_STATE

    return TEST_STATE


def _test_restricted_key() -> str:
    from services.intake.keys import new_restricted_key

    path = _test_state() / "intake" / "restricted.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_restricted_key())
    return path.read_text().strip()


def bearer(role: str, *, org: str | None = None, lab: str | None = None, subject: str | None = None) -> dict[str, str]:
    """An Authorization header signed by the test issuer."""
    private_key, _ = generate_keypair(auth_dir(_test_state()))
    token = issue_token(
        private_key.read_bytes(),
        subject=subject or f"test-{role}",
        roles=[role],
        organisation_id=org,
        lab_id=lab,
    )
    return {"Authorization": f"Bearer {token}"}


def as_registrant(body: dict[str, Any]) -> dict[str, str]:
    """The header of the registrant that owns a registration body."""
    return bearer("registrant", org=body["developer"]["organisation_id"])


STAFF = "officer"


@asynccontextmanager
async def running(*apps: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Run apps in-process with their real lifespans (Kafka, Postgres, relay); one HTTP client each."""
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            clients.append(await stack.enter_async_context(client))
        yield clients


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 30.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy, or fail after `within` seconds (never a fixed sleep)."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {within:.0f}s waiting for {what or check.__name__}; last: {last!r}")


def fresh_organisation() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"organisation_id": f"org-{suffix}", "legal_name": f"Test Lab {suffix} Ltd", "country": "GB"}


def registration(
    *,
    organisation: dict[str, str] | None = None,
    understated_by: float = 1.0,
    parameters: float = 70e9,
    tokens: float = 15e12,
) -> dict[str, Any]:
    """A registration body shaped like Llama 3-70B's public figures, optionally understated."""
    honest = 6 * parameters * tokens
    return {
        "developer": organisation or fresh_organisation(),
        "model_name": f"model-{uuid.uuid4().hex[:8]}",
        "compute": {
            "declared_training_flop": honest / understated_by,
            "parameters": parameters,
            "training_tokens": tokens,
            "epochs": 1,
        },
    }


def prometheus_samples(text: str) -> dict[str, float]:
    """Prometheus text exposition as {'name{labels}': value} (comment lines skipped)."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples
