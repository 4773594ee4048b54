"""The officers' desk: server-rendered pages over the same operations as the API.

Sign-in takes a bearer token (from the agency's identity provider, or `./dev token` locally), verifies it with
the service's verifier and keeps it in an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token
derived from that session. Analysts see everything read-only; officers also get the forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from services.plumbing.auth import Principal, Role

from . import queries
from .api import cases_csv
from .casework import Cause, UnknownModel, change_case, record_false_statement
from .chart import ComputePoint, compute_chart_svg
from .domain import RULES, ActionKind, CaseStatus, DecisionOutcome, PenaltyRegime, ResolutionReason, format_money
from .operations import (
    DOMAIN_ERRORS,
    ActionBody,
    AppealBody,
    AssignBody,
    CaseWrite,
    CloseBody,
    DecisionBody,
    FalseStatementBody,
    NoteBody,
    NoticeBody,
    PenaltyInputs,
    ResponseBody,
    TransitionBody,
    TriageBody,
    assess,
    next_statuses,
    operation,
    problem_for,
)
from .settings import EnforcementSettings

HERE = Path(__file__).parent
COOKIE = "enforcement_desk"
router = APIRouter(prefix="/desk", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["money"] = lambda value, currency: format_money(value, currency)
templates.env.filters["when"] = lambda value: str(value)[:16].replace("T", " ") if value else ""
FORMS: dict[str, type[CaseWrite]] = {
    "triage": TriageBody,
    "notice": NoticeBody,
    "response": ResponseBody,
    "decision": DecisionBody,
    "closure": CloseBody,
    "appeal": AppealBody,
    "transition": TransitionBody,
    "assignment": AssignBody,
    "notes": NoteBody,
    "actions": ActionBody,
}
_PROCESS_SECRET = secrets.token_bytes(32)
# Every desk page: never cached (it shows a signed-in officer's data), own resources only, never framed.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; form-action 'self'",
    "X-Frame-Options": "DENY",
}
LOGIN_COOKIE = "desk_sign_in"  # a random value tying the sign-in form to this browser


def _secret(request: Request) -> bytes:
    settings = cast(EnforcementSettings, request.app.state.service.settings)
    return settings.desk_secret.encode() if settings.desk_secret else _PROCESS_SECRET


def csrf_token(request: Request, session: str) -> str:
    """Bound to the session token: a form from one sign-in is worthless in another."""
    return hmac.new(_secret(request), session.encode(), hashlib.sha256).hexdigest()


def _principal(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        principal: Principal = request.app.state.service.verifier.verify(token)
    except HTTPException:
        return None
    return principal if principal.is_agency_staff else None


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/desk/login?next={quote(target)}", status_code=303)


def _page(request: Request, template: str, principal: Principal, status_code: int = 200, **context: Any) -> Response:
    context |= {
        "principal": principal,
        "is_officer": principal.has(Role.OFFICER),
        "csrf": csrf_token(request, request.cookies[COOKIE]),
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


@router.get("/static/desk.css")
async def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "desk.css", headers={"Cache-Control": "public, max-age=3600"})


def _login_page(request: Request, target: str, error: str | None, status_code: int = 200) -> Response:
    """The sign-in form, with a token bound to this browser's sign-in cookie: a page elsewhere cannot sign this
    browser in under someone else's token (login CSRF), since it can neither read the cookie nor forge the token."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    context = {"next": target, "error": error, "csrf": csrf_token(request, f"sign-in\n{nonce}")}
    response = templates.TemplateResponse(request, "login.html", context, status_code=status_code)
    settings = cast(EnforcementSettings, request.app.state.service.settings)
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=settings.desk_cookie_secure, path="/desk"
    )
    response.headers.update(PAGE_HEADERS)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/desk/cases") -> Response:
    return _login_page(request, next, None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", "")).strip()
    target = str(form.get("next") or "/desk/cases")
    if not target.startswith("/desk/"):  # never redirect off the desk
        target = "/desk/cases"
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = csrf_token(request, f"sign-in\n{nonce}")
    if not nonce or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return _login_page(request, target, "The sign-in form expired; paste the token again.", status_code=403)
    error = None
    try:
        principal: Principal = request.app.state.service.verifier.verify(token) if token else None  # type: ignore[assignment]
        if principal is None:
            error = "Paste a token to sign in."
        elif not principal.is_agency_staff:
            error = "This token has no officer or analyst role."
    except HTTPException as refused:
        error = f"The token was refused: {refused.detail}"
    if error:
        return _login_page(request, target, error, status_code=401)
    settings = cast(EnforcementSettings, request.app.state.service.settings)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=settings.desk_cookie_secure, path="/desk"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/desk")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = request.cookies.get(COOKIE)
    form = await request.form()
    if session and not hmac.compare_digest(str(form.get("csrf", "")), csrf_token(request, session)):
        return RedirectResponse("/desk/cases", status_code=303)  # not from the desk's own page: stay signed in
    response = RedirectResponse("/desk/login", status_code=303)
    response.delete_cookie(COOKIE, path="/desk")
    return response


@router.get("")
@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/desk/cases", status_code=303)


@router.get("/cases", response_class=HTMLResponse)
async def queue(
    request: Request, status: str | None = None, rule: str | None = None, assignee: str | None = None
) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    filters = {"status": status or None, "rule": rule or None, "assignee": assignee or None}
    return await _queue_page(request, principal, filters)


async def _queue_page(
    request: Request,
    principal: Principal,
    filters: dict[str, str | None],
    *,
    status_code: int = 200,
    finding: dict[str, str] | None = None,
    finding_error: dict[str, Any] | None = None,
) -> Response:
    db = request.app.state.service.db
    cases = await queries.list_cases(db, limit=500, **filters)
    counts = await queries.queue_counts(db)
    return _page(
        request,
        "queue.html",
        principal,
        status_code=status_code,
        cases=cases,
        counts=counts,
        filters=filters,
        statuses=[str(s) for s in CaseStatus],
        rules=[str(r) for r in RULES],
        finding=finding or {},
        finding_error=finding_error,
    )


async def _officers_form(request: Request, *, refusal: str) -> tuple[Principal, dict[str, str]] | Response:
    """A posted form from a signed-in officer on the desk's own page, or the page that says why not: sign-in,
    an expired or forged form (CSRF), or a role that may not do this (`refusal`)."""
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not hmac.compare_digest(form.get("csrf", ""), csrf_token(request, request.cookies[COOKIE])):
        return _page(request, "forbidden.html", principal, status_code=403, reason="The form expired; reload the page.")
    if not principal.has(Role.OFFICER):
        return _page(request, "forbidden.html", principal, status_code=403, reason=refusal)
    return principal, form


@router.post("/findings/false-statements")
async def false_statement_form(request: Request) -> Response:
    """The queue page's "Record a false statement" form: the API's finding, by the signed-in officer."""
    posted = await _officers_form(request, refusal="Only officers record findings.")
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    values = {k: v.strip() for k, v in form.items() if k != "csrf" and v.strip()}
    no_filters: dict[str, str | None] = {"status": None, "rule": None, "assignee": None}
    try:
        body = FalseStatementBody.model_validate(values)
    except ValidationError as invalid:
        error = {"status": 422, "title": "Invalid request", "detail": _messages_full(invalid)}
        return await _queue_page(request, principal, no_filters, status_code=422, finding=values, finding_error=error)
    state = request.app.state.service
    finding = body.as_finding(found_by=principal.subject, found_at=datetime.now(UTC))
    try:
        recorded = await record_false_statement(state.db, finding, profile=state.profile, cause=Cause.request())
    except UnknownModel:
        detail = f"registry_id: enforcement has no record of {body.registry_id}; check the registry id."
        error = {"status": 422, "title": "Invalid request", "detail": detail}
        return await _queue_page(request, principal, no_filters, status_code=422, finding=values, finding_error=error)
    done = {
        "case_opened": "False statement recorded: case opened.",
        "case_updated": "False statement recorded on the open case.",
    }[recorded.decision]
    if recorded.replayed:
        done = "This finding was already recorded on this case; nothing changed."
    return RedirectResponse(f"/desk/cases/{quote(recorded.case_id)}?done={quote(done)}", status_code=303)


async def _case_page(
    request: Request,
    principal: Principal,
    case_id: str,
    *,
    status_code: int = 200,
    error: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    detail = await queries.case_detail(request.app.state.service.db, case_id)
    if detail is None:
        return _page(request, "not_found.html", principal, status_code=404, case_id=case_id)
    profile = request.app.state.service.profile
    calculator = _calculator(request)
    return _page(
        request,
        "case.html",
        principal,
        status_code=status_code,
        case=detail,
        allowed=next_statuses(detail["status"]),
        statuses=[str(s) for s in CaseStatus],
        decisions=[str(d) for d in DecisionOutcome],
        resolutions=[str(r) for r in ResolutionReason],
        action_kinds=[str(k) for k in ActionKind],
        regimes=list(PenaltyRegime),
        rule_description=RULES[detail["rule"]].description if detail["rule"] in RULES else "",
        response_days=profile.deadlines.developer_response_days,
        error=error,
        done=done,
        calculator=calculator,
    )


def _calculator(request: Request) -> dict[str, Any] | None:
    """The penalty calculator's inputs and result, from the query string of its GET form."""
    params = dict(request.query_params)
    if "regime" not in params:
        return None
    inputs = {k: v for k, v in params.items() if v and k in _PENALTY_FIELDS | {"regime"}}
    try:
        assessment = assess(request.app.state.service.profile, TypeAdapter(PenaltyInputs).validate_python(inputs))
    except (ValidationError, ValueError) as invalid:
        return {"inputs": inputs, "error": _messages(invalid)}
    return {"inputs": inputs, "assessment": assessment}


_PENALTY_FIELDS = {"worldwide_turnover_eur", "violations", "prior_violations", "notice_served_on", "assessed_through"}


def _messages(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'input'}: {e['msg']}" for e in error.errors())
    return str(error)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, done: str | None = None) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    return await _case_page(request, principal, case_id, done=done)


def _form_body(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """Form fields -> the operation's body: blanks dropped, local times read as UTC, penalty inputs nested."""
    values: dict[str, Any] = {k: v.strip() for k, v in form.items() if k != "csrf" and v.strip()}
    for field in ("effective_at", "comply_by"):
        if field in values and len(values[field]) == 16:  # <input type=datetime-local>: minutes, no zone
            values[field] += ":00+00:00"
    if kind == "actions":
        values["interim"] = values.get("interim") == "on"
        penalty = {k: values.pop(k) for k in list(values) if k in _PENALTY_FIELDS}
        regime = values.pop("regime", None)
        if values.get("kind") == "penalty":
            values["penalty"] = {"regime": regime, **penalty}
    return values


@router.post("/cases/{case_id}/{kind}")
async def case_form(request: Request, case_id: str, kind: str) -> Response:
    posted = await _officers_form(request, refusal="Only officers change cases.")
    if isinstance(posted, Response):
        return posted
    principal, form = posted
    if kind not in FORMS:
        return _page(request, "not_found.html", principal, status_code=404, case_id=case_id)
    try:
        body = FORMS[kind].model_validate(_form_body(kind, form))
    except ValidationError as invalid:
        error = {"status": 422, "title": "Invalid request", "detail": _messages_full(invalid)}
        return await _case_page(request, principal, case_id, status_code=422, error=error)
    state = request.app.state.service
    try:
        update = await change_case(
            state.db,
            case_id,
            expected_row_version=body.row_version or 0,
            operate=operation(body, actor=principal.subject, profile=state.profile),
            cause=Cause.request(),
        )
    except DOMAIN_ERRORS as failure:
        problem = problem_for(failure, case_id)
        error = {"status": problem.status, "title": problem.title, "detail": problem.detail, **problem.extra}
        return await _case_page(request, principal, case_id, status_code=problem.status, error=error)
    summary = update.change.timeline[-1].summary if update.change.timeline else "Saved."
    return RedirectResponse(f"/desk/cases/{quote(case_id)}?done={quote(summary)}", status_code=303)


def _messages_full(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in error.errors())


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    db = request.app.state.service.db
    thresholds = request.app.state.service.profile.thresholds
    counts = await queries.counts_by_tier_and_status(db)
    tiers = sorted({c["tier"] for c in counts}, key=_TIER_ORDER.index)
    statuses = [str(s) for s in CaseStatus if any(c["status"] == s for c in counts)]
    table = {(c["tier"], c["status"]): c["cases"] for c in counts}
    raw_points = await queries.compute_points(db)
    points = [
        ComputePoint(
            registry_id=p["registry_id"],
            label=p["model_name"] or p["registry_id"],
            declared_flop=p["declared_flop"],
            estimate_flop=p["max_estimate_flop"],
            open_case=p["open_case"],
        )
        for p in raw_points
        if p["max_estimate_flop"] and p["declared_flop"] > 0
    ]
    chart = compute_chart_svg(
        points, reportable_flop=thresholds.reportable_flop, frontier_flop=thresholds.frontier_flop
    )
    return _page(
        request,
        "dashboard.html",
        principal,
        tiers=tiers,
        statuses=statuses,
        table=table,
        chart=chart,
        plotted=len(points),
        unplotted=len(raw_points) - len(points),
        generated_at=datetime.now(UTC),
    )


_TIER_ORDER = ["frontier", "reportable", "near_threshold", "below", "unverified", "unregistered"]


@router.get("/dashboard/cases.csv")
async def dashboard_csv(request: Request) -> Response:
    if _principal(request) is None:
        return _to_login(request)
    return await cases_csv(request)
