"""Browser tests of the enforcement desk: the service served by uvicorn in the test's event loop, driven by
Debian's headless Chromium through Playwright (never `playwright install`: tools/install_chromium.sh)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devstack import Infrastructure
from services.enforcement.app import create_app
from services.enforcement.settings import EnforcementSettings
from tests.conftest import PORT_BASE, ROOT
from tests.support import service_settings

CHROMIUM = Path(os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium"))
HAVE_CHROMIUM = CHROMIUM.exists()  # checked once at import, not in the event loop
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "ui"
DESK_PORT = PORT_BASE + 140


@pytest.fixture(scope="module")
async def desk(infra: Infrastructure) -> AsyncIterator[Any]:
    """The enforcement service on a real port; yields its app (state at app.state.service)."""
    import uvicorn

    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=3600))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=DESK_PORT, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # start-up failed: raise its error
        await asyncio.sleep(0.05)
    yield app
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    # A missing browser fails loudly (./dev test installs it); skipping needs an explicit opt-out.
    opted_out = os.environ.get("REGISTRY_SKIP_BROWSER_TESTS") == "1"
    if not HAVE_CHROMIUM:
        message = f"{CHROMIUM} is missing: run tools/install_chromium.sh (or set REGISTRY_SKIP_BROWSER_TESTS=1)"
        pytest.skip(message) if opted_out else pytest.fail(message)
    import playwright.async_api as playwright_api

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
