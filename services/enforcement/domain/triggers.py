"""The facts that can show a breach: a small typed union the handlers map Kafka events onto.

Each trigger is a frozen pydantic model with a literal `kind`, so `parse_trigger` can also read one
from a plain dict (e.g. a dead-letter replay). Triggers carry facts only; `evaluate_trigger` in
rules.py decides whether they amount to a breach, using the rule profile's deadlines.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, PositiveInt, TypeAdapter, model_validator

from services.enforcement.domain._base import FrozenModel, NonBlank


class VerificationStatus(StrEnum):
    """Outcome of the verification service's comparison of declared and estimated compute."""

    CONSISTENT = "consistent"
    DISCREPANCY = "discrepancy"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


class EvaluationVerdict(StrEnum):
    """A lab's verdict for one domain or overall, from best to worst."""

    PASS = "pass"
    CONCERN = "concern"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        """0 for pass, 1 for concern, 2 for fail: lets verdicts be compared."""
        return _VERDICT_SEVERITY[self]


_VERDICT_SEVERITY = {EvaluationVerdict.PASS: 0, EvaluationVerdict.CONCERN: 1, EvaluationVerdict.FAIL: 2}


class FilingKind(StrEnum):
    """Filings with a deadline that enforcement checks."""

    TRAINING_NOTICE = "training_notice"
    REGISTRATION = "registration"


class UseSource(StrEnum):
    """How the registry learned that an unregistered model is in use."""

    USAGE_REPORT = "usage_report"  # a third party reported seeing it
    LOOKUP = "lookup"  # someone looked up a model the registry does not know
    DEVELOPER_DEPLOYMENT = "developer_deployment"  # its developer deployed it (status change, market evidence)


class ComputeVerificationFinding(FrozenModel):
    """The verification service compared declared training compute with independent estimates."""

    kind: Literal["compute_verification_finding"] = "compute_verification_finding"
    registry_id: NonBlank
    version: PositiveInt
    status: VerificationStatus
    declared_flop: float = Field(gt=0)
    max_estimate_flop: float | None = Field(default=None, ge=0)
    tolerance_factor: float = Field(gt=1)
    summary: NonBlank  # the verification's one-sentence explanation
    reasons: tuple[str, ...] = ()
    verified_at: AwareDatetime
    verification_id: str | None = None

    @model_validator(mode="after")
    def _discrepancy_needs_an_estimate(self) -> ComputeVerificationFinding:
        if self.status is VerificationStatus.DISCREPANCY and self.max_estimate_flop is None:
            raise ValueError("max_estimate_flop is required when status is 'discrepancy'")
        return self


class DomainResult(FrozenModel):
    """One evaluation domain's result."""

    domain: NonBlank
    verdict: EvaluationVerdict
    score: float | None = None
    threshold: float | None = None


class EvaluationOutcome(FrozenModel):
    """An accredited lab finished an evaluation request."""

    kind: Literal["evaluation_outcome"] = "evaluation_outcome"
    registry_id: NonBlank
    version: PositiveInt
    request_id: NonBlank
    lab_id: NonBlank
    domain_results: tuple[DomainResult, ...] = Field(min_length=1)
    overall: EvaluationVerdict
    completed_at: AwareDatetime

    @model_validator(mode="after")
    def _overall_not_better_than_worst_domain(self) -> EvaluationOutcome:
        domains = [result.domain for result in self.domain_results]
        if len(set(domains)) != len(domains):
            raise ValueError(f"domain_results names a domain twice: {sorted(domains)}")
        worst = max(self.domain_results, key=lambda result: result.verdict.severity)
        if self.overall.severity < worst.verdict.severity:
            raise ValueError(f"overall '{self.overall}' is better than domain {worst.domain!r} ('{worst.verdict}')")
        return self


class EvaluationOverdue(FrozenModel):
    """An evaluation request is still outstanding at or after its deadline."""

    kind: Literal["evaluation_overdue"] = "evaluation_overdue"
    registry_id: NonBlank
    request_id: NonBlank
    lab_id: NonBlank
    domains: tuple[str, ...] = ()
    due_at: AwareDatetime
    observed_at: AwareDatetime


class EvaluationRefused(FrozenModel):
    """A developer refused (or failed to give) an accredited lab access for a required evaluation."""

    kind: Literal["evaluation_refused"] = "evaluation_refused"
    registry_id: NonBlank
    request_id: NonBlank
    lab_id: NonBlank
    refused_at: AwareDatetime
    explanation: NonBlank


class LateFiling(FrozenModel):
    """A filing with a deadline was received; enforcement checks it against the profile's deadline.

    `anchor_at` is what the deadline counts from: for a training notice, when the run crossed a
    threshold (due `training_notice_days_after_crossing` days later); for a registration, the first
    deployment, actual or planned (due `registration_days_before_deployment` days before it).
    """

    kind: Literal["late_filing"] = "late_filing"
    registry_id: NonBlank
    filing_kind: FilingKind
    anchor_at: AwareDatetime
    filed_at: AwareDatetime
    filing_id: str | None = None


class UnregisteredUse(FrozenModel):
    """A model the registry does not know was seen in use, looked up, or deployed by its developer.

    The handler checks the model is really unregistered before building this trigger.
    """

    kind: Literal["unregistered_use"] = "unregistered_use"
    model_name: NonBlank
    developer: str | None = None
    seen_at: AwareDatetime
    source: UseSource
    reporter: str | None = None
    report_id: str | None = None


class IncidentReported(FrozenModel):
    """A developer reported a critical safety incident."""

    kind: Literal["incident_reported"] = "incident_reported"
    registry_id: NonBlank
    incident_id: NonBlank
    discovered_at: AwareDatetime
    reported_at: AwareDatetime
    imminent_risk: bool

    @model_validator(mode="after")
    def _reported_after_discovery(self) -> IncidentReported:
        if self.reported_at < self.discovered_at:
            raise ValueError(
                f"reported_at {self.reported_at.isoformat()} is before discovered_at {self.discovered_at.isoformat()}"
            )
        return self


#: Namespace of false-statement finding ids (uuid5 of the finding's content).
FALSE_STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:frontier-registry:enforcement:false-statement")


class FalseStatementFound(FrozenModel):
    """An officer or verification established that a filed statement was false."""

    kind: Literal["false_statement_found"] = "false_statement_found"
    registry_id: NonBlank
    version: PositiveInt
    statement_field: NonBlank  # which field of the filing was false
    finding: NonBlank  # what was found, in a sentence
    found_by: NonBlank
    found_at: AwareDatetime

    @property
    def finding_id(self) -> str:
        """A UUID derived from what was found, where and by whom (not when): the same finding reported
        again, e.g. a retried request, has the same id, so it is recorded once."""
        content = [self.registry_id, self.version, self.statement_field, self.finding, self.found_by]
        return str(uuid.uuid5(FALSE_STATEMENT_NAMESPACE, json.dumps(content, ensure_ascii=False)))


Trigger = Annotated[
    ComputeVerificationFinding
    | EvaluationOutcome
    | EvaluationOverdue
    | EvaluationRefused
    | LateFiling
    | UnregisteredUse
    | IncidentReported
    | FalseStatementFound,
    Field(discriminator="kind"),
]

_TRIGGER_ADAPTER: TypeAdapter[Trigger] = TypeAdapter(Trigger)


def parse_trigger(data: dict[str, Any]) -> Trigger:
    """Validate a plain dict (with its `kind`) into a trigger; raises pydantic's ValidationError."""
    return _TRIGGER_ADAPTER.validate_python(data)
