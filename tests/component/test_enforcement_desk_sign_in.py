"""The desk's sign-in and sign-out only work from the desk's own pages (no login or logout CSRF)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from services.enforcement.app import create_app
from services.enforcement.settings import EnforcementSettings
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def app(infra: Infrastructure) -> AsyncIterator[FastAPI]:
    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=3600))
    async with running(app):
        yield app


def _browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def _officer_token() -> str:
    return bearer("officer", subject="officer-sign-in")["Authorization"].removeprefix("Bearer ")


async def test_signing_in_needs_the_form_this_browser_was_given(app: FastAPI) -> None:
    async with _browser(app) as victim, _browser(app) as attacker:
        form = await victim.get("/desk/login")
        assert form.headers["x-frame-options"] == "DENY"
        cookie = form.headers["set-cookie"]
        assert "desk_sign_in=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        # A page elsewhere posting its own token: no form token, or one from another browser's form.
        token = _officer_token()
        for forged in ({}, {"csrf": _csrf((await attacker.get("/desk/login")).text)}, {"csrf": "0" * 64}):
            refused = await victim.post("/desk/login", data={"token": token, "next": "/desk/cases", **forged})
            assert refused.status_code == 403 and "The sign-in form expired" in refused.text
            assert "enforcement_desk" not in victim.cookies
        signed_in = await victim.post("/desk/login", data={"token": token, "csrf": _csrf(form.text)})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/desk/cases"
        assert "enforcement_desk" in victim.cookies and "desk_sign_in" not in victim.cookies
        assert (await victim.get("/desk/cases")).status_code == 200


async def test_signing_out_needs_the_desk_pages_token(app: FastAPI) -> None:
    async with _browser(app) as browser:
        form = (await browser.get("/desk/login")).text
        await browser.post("/desk/login", data={"token": _officer_token(), "csrf": _csrf(form)})
        page = await browser.get("/desk/cases")
        forged = await browser.post("/desk/logout")
        assert forged.status_code == 303 and (await browser.get("/desk/cases")).status_code == 200  # still in
        signed_out = await browser.post("/desk/logout", data={"csrf": _csrf(page.text)})
        assert signed_out.headers["location"] == "/desk/login"
        assert (await browser.get("/desk/cases")).headers["location"].startswith("/desk/login")
