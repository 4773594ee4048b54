"""Judging a lab's result: is it acceptable, and what does each score mean against the suite thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import Field, FiniteFloat

from .catalogue import EvaluationOutcome
from .errors import DescribedEnum, EvaluationsDomainError, Frozen, ResultError, as_utc
from .requests import EvaluationRequest, RequestStatus


class RejectionReason(DescribedEnum):
    """Why a submitted result was not accepted (the lab is told; nothing is recorded as evaluated)."""

    WRONG_LAB = "wrong_lab", "The result came from a lab the request was not assigned to."
    WRONG_MODEL = "wrong_model", "The result names a different registry id than the request."
    WRONG_VERSION = "wrong_version", "The result is for a different model version than the one requested."
    DUPLICATE = "duplicate", "The request already has an accepted result."
    SUPERSEDED = "superseded", "The request was superseded by a request for a newer version."
    UNKNOWN_SUITE = "unknown_suite", "The result scores a suite the request did not ask for."
    MISSING_SUITE = "missing_suite", "The result leaves out a suite the request asked for."
    SCORE_OUT_OF_RANGE = "score_out_of_range", "A score lies outside its suite's scale."
    UNKNOWN_REQUEST = "unknown_request", "No request has this id."
    ACCESS_REFUSED = "access_refused", "The lab already reported that access was refused for this request."
    NO_SCORES = "no_scores", "A result must score the requested suites (or report refused access)."


class SubmittedResult(Frozen):
    """What a lab sends back: one score per requested suite, for one model version."""

    request_id: str = Field(min_length=1)
    lab_id: str = Field(min_length=1)
    registry_id: str = Field(min_length=1)
    model_version: int = Field(ge=1)
    suite_scores: dict[str, FiniteFloat] = Field(min_length=1)
    summary: str = Field(default="", max_length=10_000)


class SuiteAssessment(Frozen):
    """One suite's score judged against its thresholds."""

    suite_id: str
    suite_version: str
    score: float
    outcome: EvaluationOutcome
    thresholds: str


class ResultAssessment(Frozen):
    """The verdict on a submitted result: accepted with outcomes, or rejected with the reason."""

    request_id: str
    lab_id: str
    registry_id: str
    model_version: int
    domain: str
    accepted: bool
    rejection: RejectionReason | None = None
    suites: tuple[SuiteAssessment, ...] = ()
    domain_outcome: EvaluationOutcome | None = None
    late: bool = False
    received_at: datetime
    deadline: datetime
    reasons: tuple[str, ...]


class OverdueRequest(Frozen):
    """An open request past its deadline: enforcement escalates it."""

    request: EvaluationRequest
    overdue_by_days: int = Field(ge=0, description="Whole days past the deadline (0 = less than a day).")


def assess_result(*, request: EvaluationRequest, submitted: SubmittedResult, now: datetime) -> ResultAssessment:
    """Accept or reject a lab's result for `request`, and judge each suite's score.

    Accepted only from the assigned lab, for the requested model and version, on an open request, with
    exactly the requested suites and every score on its suite's scale. The domain outcome is the worst
    suite outcome. A result received after the deadline is still accepted but marked late.
    """
    received = as_utc(now, field="now")
    if submitted.request_id != request.request_id:
        raise ResultError("submitted.request_id", f"{submitted.request_id!r} is not request {request.request_id!r}")
    late = received > request.deadline
    common: dict[str, object] = {
        "request_id": request.request_id,
        "lab_id": submitted.lab_id,
        "registry_id": request.registry_id,
        "model_version": submitted.model_version,
        "domain": request.domain,
        "received_at": received,
        "deadline": request.deadline,
        "late": late,
    }
    rejection = _rejection(request=request, submitted=submitted)
    if rejection is not None:
        reason, why = rejection
        return ResultAssessment.model_validate({**common, "accepted": False, "rejection": reason, "reasons": (why,)})
    by_id = {s.id: s for s in request.suites}
    suites = tuple(
        SuiteAssessment(
            suite_id=suite_id,
            suite_version=by_id[suite_id].version,
            score=submitted.suite_scores[suite_id],
            outcome=by_id[suite_id].classify(submitted.suite_scores[suite_id]),
            thresholds=by_id[suite_id].threshold_text(),
        )
        for suite_id in request.suite_ids
    )
    outcome = overall_outcome(s.outcome for s in suites)
    reasons = [f"{s.suite_id} v{s.suite_version}: {s.score} -> {s.outcome} ({s.thresholds})" for s in suites]
    reasons.append(f"{request.domain}: {outcome} (worst suite outcome)")
    if late:
        reasons.append(f"received {received:%Y-%m-%d %H:%M} UTC, after the deadline {request.deadline:%Y-%m-%d}")
    return ResultAssessment.model_validate(
        {**common, "accepted": True, "suites": suites, "domain_outcome": outcome, "reasons": tuple(reasons)}
    )


def assess_access_refusal(
    *, request: EvaluationRequest, lab_id: str, registry_id: str, model_version: int
) -> tuple[RejectionReason, str] | None:
    """Why a lab's report of refused access cannot be accepted for `request`, or None if it can.

    The same checks as a result's before its scores: the assigned lab, an open request, the requested
    model and version.
    """
    return _authorisation_rejection(
        request=request, lab_id=lab_id, registry_id=registry_id, model_version=model_version
    )


def _authorisation_rejection(
    *, request: EvaluationRequest, lab_id: str, registry_id: str, model_version: int
) -> tuple[RejectionReason, str] | None:
    # Authorisation first, so a foreign lab learns nothing about the request's state.
    if lab_id != request.lab_id:
        return RejectionReason.WRONG_LAB, f"lab {lab_id!r} is not assigned request {request.request_id}"
    if request.status is RequestStatus.COMPLETED:
        return RejectionReason.DUPLICATE, f"request {request.request_id} already has an accepted result"
    if request.status is RequestStatus.SUPERSEDED:
        return RejectionReason.SUPERSEDED, f"request {request.request_id} was superseded by a newer version"
    if request.status is RequestStatus.ACCESS_REFUSED:
        return RejectionReason.ACCESS_REFUSED, f"request {request.request_id} was closed as access refused"
    if registry_id != request.registry_id:
        return RejectionReason.WRONG_MODEL, f"result is for {registry_id!r}, the request is for {request.registry_id!r}"
    if model_version != request.model_version:
        return RejectionReason.WRONG_VERSION, (
            f"result is for version {model_version}, the request is for version {request.model_version}"
        )
    return None


def _rejection(*, request: EvaluationRequest, submitted: SubmittedResult) -> tuple[RejectionReason, str] | None:
    refused = _authorisation_rejection(
        request=request,
        lab_id=submitted.lab_id,
        registry_id=submitted.registry_id,
        model_version=submitted.model_version,
    )
    if refused is not None:
        return refused
    unknown = sorted(set(submitted.suite_scores) - set(request.suite_ids))
    if unknown:
        return (
            RejectionReason.UNKNOWN_SUITE,
            f"suites {unknown} were not requested; requested {list(request.suite_ids)}",
        )
    missing = [s for s in request.suite_ids if s not in submitted.suite_scores]
    if missing:
        return RejectionReason.MISSING_SUITE, f"no score for requested suites {missing}"
    for suite in request.suites:
        score = submitted.suite_scores[suite.id]
        if not suite.score_in_range(score):
            return RejectionReason.SCORE_OUT_OF_RANGE, (
                f"{suite.id} score {score} is outside [{suite.score_min}, {suite.score_max}]"
            )
    return None


def overall_outcome(outcomes: Iterable[EvaluationOutcome]) -> EvaluationOutcome:
    """Worst outcome wins: fail if any fail, else concern if any concern, else pass.

    Used for a domain (over its suites) and for a model version (over its domains). An empty input is
    an error: no evaluations is not a pass.
    """
    found = tuple(outcomes)
    if not found:
        raise EvaluationsDomainError("outcomes", "no outcomes to combine: an empty evaluation is not a pass")
    return max(found, key=lambda outcome: outcome.severity)


def find_overdue(*, requests: Sequence[EvaluationRequest], now: datetime) -> tuple[OverdueRequest, ...]:
    """Open requests (no accepted result, not superseded) whose deadline has passed, oldest deadline first."""
    current = as_utc(now, field="now")
    overdue = [r for r in requests if r.status is RequestStatus.OPEN and current > r.deadline]
    overdue.sort(key=lambda r: (r.deadline, r.request_id))
    return tuple(OverdueRequest(request=r, overdue_by_days=(current - r.deadline).days) for r in overdue)
