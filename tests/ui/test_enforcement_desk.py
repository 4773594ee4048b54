"""The officers' desk in a real browser: sign-in, queue filters and counts, a case with its evidence, an
illegal move shown clearly, a legal move, a suspension, the penalty calculator, the analysts' dashboard
chart and CSV export. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from registry_contracts.events.evaluations import EvaluationVerdict
from tests.component import enforcement_support as ev
from tests.support import bearer
from tests.ui.conftest import DESK_PORT, SCREENSHOTS

pytestmark = pytest.mark.ui
BASE = f"http://127.0.0.1:{DESK_PORT}"


def token(role: str, subject: str) -> str:
    return bearer(role, subject=subject)["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
async def seeded(desk: Any) -> dict[str, Any]:
    """Three cases held by one fresh officer: two failed evaluations, one compute discrepancy."""
    state = desk.state.service
    officer = f"officer-{uuid.uuid4().hex[:6]}"
    models = [ev.registry_id() for _ in range(3)]
    for rid in models:
        await ev.deliver(state, ev.wrap(ev.registration(rid)))
    await ev.deliver(state, ev.wrap(ev.evaluation(models[0], EvaluationVerdict.FAIL)))
    await ev.deliver(state, ev.wrap(ev.evaluation(models[1], EvaluationVerdict.FAIL)))
    await ev.deliver(state, ev.wrap(ev.compute_verified(models[2], declared=3e24, estimate=2.4e25)))
    cases = {}
    async with httpx.AsyncClient(base_url=BASE, headers=bearer("officer", subject=officer)) as client:
        for rid in models:
            (case,) = (await client.get("/v1/cases", params={"registry_id": rid})).json()
            assigned = await client.post(
                f"/v1/cases/{case['case_id']}/assignment",
                json={"row_version": case["row_version"], "officer_id": officer},
            )
            assert assigned.status_code == 200
            cases[rid] = case["case_id"]
    return {"officer": officer, "models": models, "cases": cases}


@pytest.fixture
async def officer_page(browser: Any, seeded: dict[str, Any]) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    await sign_in(page, token("officer", seeded["officer"]))
    yield page
    await context.close()


async def sign_in(page: Any, jwt: str) -> None:
    await page.goto(f"{BASE}/desk/cases")
    assert "/desk/login" in page.url  # not signed in yet
    await page.get_by_label("Access token").fill(jwt)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{BASE}/desk/cases")


async def test_sign_in_sets_a_strict_http_only_cookie(browser: Any, seeded: dict[str, Any]) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{BASE}/desk/login")
    await page.get_by_label("Access token").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    assert "The token was refused" in await page.get_by_role("alert").inner_text()
    await sign_in(page, token("analyst", "analyst-1"))
    (cookie,) = await context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    await context.close()


async def test_queue_filters_and_counts(officer_page: Any, seeded: dict[str, Any]) -> None:
    page = officer_page
    officer = seeded["officer"]
    assignee = page.get_by_label("Assignee")
    assert f"{officer} (3)" in await assignee.inner_text()
    await assignee.select_option(officer)
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url(f"**assignee={officer}*")
    assert await page.locator("#shown").inner_text() == "3 cases shown."
    await page.get_by_label("Rule").select_option("evaluation_failed")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**rule=evaluation_failed*")
    assert await page.locator("#shown").inner_text() == "2 cases shown."
    rows = page.locator("table.queue tbody tr")
    assert await rows.count() == 2
    await page.screenshot(path=SCREENSHOTS / "queue-filtered.png", full_page=True)


async def test_open_a_case_illegal_then_legal_transition(officer_page: Any, seeded: dict[str, Any]) -> None:
    page = officer_page
    rid = seeded["models"][2]
    case_id = seeded["cases"][rid]
    await page.goto(f"{BASE}/desk/cases?assignee={seeded['officer']}&rule=compute_discrepancy")
    await page.get_by_role("link", name=case_id).click()
    await page.wait_for_url(f"**/desk/cases/{case_id}")
    assert "exceeds it by 8x" in await page.locator("#evidence-h + article").inner_text()
    assert "architecture" in await page.get_by_role("table", name="Independent estimates").inner_text()

    await page.get_by_label("New status").select_option("decided")
    await page.get_by_label("Reason for the move").fill("Skip ahead")
    await page.get_by_role("button", name="Move").click()
    problem = page.get_by_role("alert")
    text = await problem.inner_text()
    assert "Transition not allowed" in text and "cannot move from opened to decided" in text
    assert "Allowed next statuses from opened" in text and "triaged" in text and "closed" in text
    assert await page.locator("#case-status").inner_text() == "opened"
    await page.screenshot(path=SCREENSHOTS / "case-illegal-transition.png", full_page=True)

    await page.get_by_label("New status").select_option("triaged")
    await page.get_by_label("Reason for the move").fill("Estimate is 8x the declaration")
    await page.get_by_role("button", name="Move").click()
    await page.wait_for_url("**done=*")
    assert await page.locator("#case-status").inner_text() == "triaged"
    assert "Moved from opened to triaged." in await page.get_by_role("status").first.inner_text()
    assert "Estimate is 8x the declaration" in await page.locator("ol.timeline").inner_text()


async def test_a_suspension_action(officer_page: Any, seeded: dict[str, Any]) -> None:
    page = officer_page
    case_id = seeded["cases"][seeded["models"][0]]
    await page.goto(f"{BASE}/desk/cases/{case_id}")
    assert await page.locator("#standing").inner_text() == "under review"
    await page.get_by_label("Action", exact=True).select_option("suspension")
    await page.get_by_label("Reason for the action").fill("Failed cyber offence evaluation; imminent risk")
    await page.get_by_label("Interim suspension, before a decision").check()
    await page.get_by_role("button", name="Take action").click()
    await page.wait_for_url("**done=*")
    assert await page.locator("#standing").inner_text() == "suspended"
    assert "Interim suspension of" in await page.locator("ol.timeline").inner_text()
    await page.screenshot(path=SCREENSHOTS / "case-suspended.png", full_page=True)


async def test_penalty_calculator_shows_its_reasoning(officer_page: Any, seeded: dict[str, Any]) -> None:
    page = officer_page
    await page.goto(f"{BASE}/desk/cases/{seeded['cases'][seeded['models'][1]]}")
    await page.locator("#c-regime").select_option("raise")
    await page.locator("#c-violations").fill("2")
    await page.locator("#c-prior_violations").fill("0")
    await page.get_by_role("button", name="Calculate").click()
    result = await page.locator("#assessment").inner_text()
    assert "Maximum: $4M" in result and "first violation" in result
    assert await page.locator("#amount").input_value() == "4000000.00"  # the action form is prefilled


async def test_dashboard_chart_and_csv_export(browser: Any, seeded: dict[str, Any]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = await context.new_page()
    await sign_in(page, token("analyst", "analyst-2"))
    await page.get_by_role("link", name="Dashboard").click()
    rid = seeded["models"][2]
    point = page.locator(f'svg.chart circle[data-registry-id="{rid}"]')
    assert await point.count() == 1 and "open" in (await point.get_attribute("class") or "")
    assert await page.locator("svg.chart line.threshold.frontier").count() == 2
    assert "reportable" in await page.locator("#tier-status").inner_text()
    assert await page.get_by_role("button", name="Take action").count() == 0  # analysts: read-only
    await page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export every case as CSV").click()
    download = await download_info.value
    content = SCREENSHOTS / "cases.csv"
    await download.save_as(content)
    text = content.read_text()
    assert text.startswith("case_id,registry_id") and rid in text
    await context.close()


async def test_forms_without_the_csrf_token_are_refused(seeded: dict[str, Any]) -> None:
    jwt = token("officer", seeded["officer"])
    case_id = seeded["cases"][seeded["models"][1]]
    async with httpx.AsyncClient(base_url=BASE, cookies={"enforcement_desk": jwt}) as client:
        response = await client.post(f"/desk/cases/{case_id}/notes", data={"text": "forged", "row_version": "2"})
    assert response.status_code == 403 and "The form expired" in response.text
