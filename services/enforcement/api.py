"""Enforcement's HTTP API: the case queue and each case (officers and analysts), the officers' workflow and
actions (officers only, each write naming the row version it read), penalties, and the analysts' figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from . import queries
from .casework import Cause, UnknownModel, change_case, record_false_statement
from .domain import RULES
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
    penalty_regimes,
    problem_for,
)

router = APIRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))]
Officer = Annotated[Principal, Depends(require(Role.OFFICER))]
FindingAuthor = Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN))]
IfMatch = Annotated[str | None, Header(description='The case\'s row_version as read, e.g. "3".')]


@router.get("/cases", tags=["cases"], summary="The case queue, newest first, with filters")
async def get_cases(
    request: Request,
    caller: Reader,
    registry_id: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    assignee: str | None = Query(default=None, description="An officer id, or 'unassigned'."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    return await queries.list_cases(
        request.app.state.service.db, status=status, rule=rule, assignee=assignee, registry_id=registry_id, limit=limit
    )


@router.get("/cases/counts", tags=["cases"], summary="How many cases by status, rule and assignee")
async def get_counts(request: Request, caller: Reader) -> dict[str, dict[str, int]]:
    return await queries.queue_counts(request.app.state.service.db)


@router.get("/cases/{case_id}", tags=["cases"], summary="A case: its state, timeline, evidence and actions")
async def get_case(case_id: str, request: Request, response: Response, caller: Reader) -> dict[str, Any]:
    detail = await queries.case_detail(request.app.state.service.db, case_id)
    if detail is None:
        raise ProblemError(404, "Not found", f"no case {case_id}")
    detail["allowed_next_statuses"] = next_statuses(detail["status"])
    response.headers["ETag"] = f'"{detail["row_version"]}"'
    return detail


@router.get("/cases/{case_id}/timeline", tags=["cases"], summary="Everything that happened to a case")
async def get_timeline(case_id: str, request: Request, caller: Reader) -> list[dict[str, Any]]:
    entries = await queries.timeline(request.app.state.service.db, case_id)
    if not entries:
        raise ProblemError(404, "Not found", f"no case {case_id}")
    return entries


@router.get("/decisions/{registry_id}", tags=["cases"], summary="What enforcement decided on each finding")
async def get_decisions(registry_id: str, request: Request, caller: Reader) -> list[dict[str, Any]]:
    return await queries.decisions_for_models(request.app.state.service.db, [registry_id])


@router.get("/rules", tags=["rules"], summary="The rules enforcement applies")
async def get_rules(caller: Reader) -> list[dict[str, Any]]:
    return [
        {
            "rule": str(rule),
            "description": spec.description,
            "puts_model_under_review": spec.puts_model_under_review,
            "allows_interim_suspension": spec.allows_interim_suspension,
        }
        for rule, spec in RULES.items()
    ]


def row_version_of(body: CaseWrite, if_match: str | None) -> int:
    """The row version the caller read: If-Match or the body's row_version (they must agree)."""
    header_version: int | None = None
    if if_match is not None:
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise ProblemError(
                422,
                "Invalid request",
                f'If-Match must be the case\'s row_version, e.g. "3"; got {if_match!r}',
                errors=[{"field": "If-Match", "reason": "must be a row version"}],
            )
        header_version = int(text)
    if header_version is not None and body.row_version is not None and header_version != body.row_version:
        raise ProblemError(
            422,
            "Invalid request",
            f"If-Match says row_version {header_version} but the body says {body.row_version}",
            errors=[{"field": "row_version", "reason": "disagrees with If-Match"}],
        )
    version = header_version if header_version is not None else body.row_version
    if version is None:
        raise ProblemError(
            428,
            "Row version required",
            "every change names the case's row_version it read (If-Match header or row_version in the body), "
            "so that one officer never silently overwrites another's change",
        )
    return version


async def apply(case_id: str, body: CaseWrite, request: Request, caller: Principal, if_match: str | None) -> Any:
    """Run an officer operation and answer with the case as stored, its new row version and ETag."""
    state = request.app.state.service
    expected = row_version_of(body, if_match)
    try:
        update = await change_case(
            state.db,
            case_id,
            expected_row_version=expected,
            operate=operation(body, actor=caller.subject, profile=state.profile),
            cause=Cause.request(),
        )
    except DOMAIN_ERRORS as error:
        raise problem_for(error, case_id) from error
    content = {
        "case": json.loads(update.case.model_dump_json()),
        "row_version": update.row_version,
        "allowed_next_statuses": next_statuses(update.case.status),
        "timeline": [json.loads(e.model_dump_json()) for e in update.change.timeline],
        "action": json.loads(update.change.action.model_dump_json()) if update.change.action else None,
    }
    return Response(json.dumps(content), media_type="application/json", headers={"ETag": f'"{update.row_version}"'})


@router.post("/cases/{case_id}/triage", tags=["workflow"], summary="Triage: an officer takes the case up")
async def post_triage(case_id: str, body: TriageBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/assignment", tags=["workflow"], summary="Assign the case to an officer")
async def post_assign(case_id: str, body: AssignBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/notes", tags=["workflow"], summary="Add a note to the timeline")
async def post_note(case_id: str, body: NoteBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/notice", tags=["workflow"], summary="Issue a notice; the response window starts")
async def post_notice(case_id: str, body: NoticeBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/response", tags=["workflow"], summary="Record the developer's response")
async def post_response(case_id: str, body: ResponseBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/decision", tags=["workflow"], summary="Decide the case")
async def post_decision(case_id: str, body: DecisionBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/closure", tags=["workflow"], summary="Close the case with a resolution")
async def post_close(case_id: str, body: CloseBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/appeal", tags=["workflow"], summary="Record the developer's appeal")
async def post_appeal(case_id: str, body: AppealBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/transitions", tags=["workflow"], summary="Move the case to any allowed status")
async def post_transition(
    case_id: str, body: TransitionBody, request: Request, caller: Officer, if_match: IfMatch = None
):
    return await apply(case_id, body, request, caller, if_match)


@router.post("/cases/{case_id}/actions", tags=["actions"], summary="Take an action: warning ... reinstatement")
async def post_action(case_id: str, body: ActionBody, request: Request, caller: Officer, if_match: IfMatch = None):
    return await apply(case_id, body, request, caller, if_match)


@router.post(
    "/findings/false-statements",
    tags=["findings"],
    summary="Record that a filing held a false statement: opens or adds to the model's false_statement case",
    status_code=201,
    responses={
        200: {
            "description": "The model's open false_statement case was updated (or this finding was already recorded)"
        },
        201: {"description": "A false_statement case was opened; Location names it"},
    },
)
async def post_false_statement(
    body: FalseStatementBody, request: Request, response: Response, caller: FindingAuthor
) -> dict[str, Any]:
    """The finding is judged by the false_statement rule like any other trigger. The same finding sent again by
    the same caller (same registry_id, version, statement_field and finding) is recorded once: a retry gets the
    first answer, with `Idempotent-Replayed: true`, and changes nothing."""
    state = request.app.state.service
    finding = body.as_finding(found_by=caller.subject, found_at=datetime.now(UTC))
    try:
        recorded = await record_false_statement(state.db, finding, profile=state.profile, cause=Cause.request())
    except UnknownModel as unknown:
        reason = (
            f"enforcement has no record of {unknown}: no filing, verification or evaluation of it has reached "
            "enforcement; check the registry id"
        )
        raise ProblemError(
            422,
            "Invalid request",
            f"1 field(s) are invalid: registry_id: {reason}",
            errors=[{"field": "registry_id", "reason": reason}],
        ) from unknown
    detail = await queries.case_detail(state.db, recorded.case_id)
    assert detail is not None, recorded.case_id
    detail["allowed_next_statuses"] = next_statuses(detail["status"])
    opened = recorded.decision == "case_opened"
    response.status_code = 201 if opened else 200
    if opened:
        response.headers["Location"] = f"/v1/cases/{quote(recorded.case_id)}"
    if recorded.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = f'"{detail["row_version"]}"'
    return {
        "finding_id": recorded.finding_id,
        "decision": recorded.decision,
        "replayed": recorded.replayed,
        "case": detail,
    }


@router.get("/penalties/regimes", tags=["penalties"], summary="Penalty regimes of the rule profile")
async def get_regimes(request: Request, caller: Reader) -> dict[str, Any]:
    profile = request.app.state.service.profile
    return {"profile_id": profile.id, "regimes": penalty_regimes(profile)}


@router.post("/penalties/assessments", tags=["penalties"], summary="The maximum penalty, with its reasoning")
async def post_assessment(inputs: PenaltyInputs, request: Request, caller: Reader) -> dict[str, Any]:
    assessment = assess(request.app.state.service.profile, inputs)
    return json.loads(assessment.model_dump_json())


@router.get("/dashboard", tags=["analysts"], summary="Case counts by tier and status, compute points")
async def get_dashboard(request: Request, caller: Reader) -> dict[str, Any]:
    db = request.app.state.service.db
    thresholds = request.app.state.service.profile.thresholds
    return {
        "counts": await queries.counts_by_tier_and_status(db),
        "compute": await queries.compute_points(db),
        "thresholds": {"reportable_flop": thresholds.reportable_flop, "frontier_flop": thresholds.frontier_flop},
    }


EXPORT_COLUMNS = [
    "case_id",
    "registry_id",
    "model_key",
    "model_name",
    "developer_name",
    "rule",
    "status",
    "tier",
    "assigned_officer",
    "opened_at",
    "updated_at",
    "response_due_at",
    "breach_count",
    "decision",
    "resolution",
    "actions",
    "declared_flop",
    "max_estimate_flop",
    "summary",
]


async def cases_csv(request: Request) -> Response:
    rows = await queries.export_rows(request.app.state.service.db)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in EXPORT_COLUMNS})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="enforcement-cases.csv"'},
    )


@router.get("/exports/cases.csv", tags=["analysts"], summary="Every case as CSV")
async def get_cases_csv(request: Request, caller: Reader) -> Response:
    return await cases_csv(request)
