"""Enforcement rules: stable ids, what each means, and the pure check that turns a trigger into a breach.

Every number comes from the rule profile (deadlines, thresholds); the triggers carry the facts.
`evaluate_trigger` returns None when the facts show no breach (a consistent verification, a passed
evaluation, a filing on time); the handler records that as a "no_action" decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from pydantic import AwareDatetime, PositiveInt

from services.enforcement.domain._base import FrozenModel, NonBlank, describe_duration, describe_time
from services.enforcement.domain.triggers import (
    ComputeVerificationFinding,
    EvaluationOutcome,
    EvaluationOverdue,
    EvaluationRefused,
    EvaluationVerdict,
    FalseStatementFound,
    FilingKind,
    IncidentReported,
    LateFiling,
    Trigger,
    UnregisteredUse,
    UseSource,
    VerificationStatus,
)
from services.plumbing.rule_profile import RuleProfile


class RuleId(StrEnum):
    """Stable ids of the rules enforcement applies; stored on cases, never renamed."""

    LATE_TRAINING_NOTICE = "late_training_notice"
    LATE_REGISTRATION = "late_registration"
    DEPLOYED_UNREGISTERED = "deployed_unregistered"
    USED_UNREGISTERED = "used_unregistered"
    COMPUTE_DISCREPANCY = "compute_discrepancy"
    EVALUATION_FAILED = "evaluation_failed"
    EVALUATION_CONCERN = "evaluation_concern"
    EVALUATION_OVERDUE = "evaluation_overdue"
    EVALUATION_REFUSED = "evaluation_refused"
    LATE_INCIDENT_REPORT = "late_incident_report"
    FALSE_STATEMENT = "false_statement"

    @property
    def description(self) -> str:
        """What the rule means, for officers and the public rule catalogue."""
        return RULES[self].description


@dataclass(frozen=True, slots=True)
class RuleDefinition:
    """A rule and the consequences an open case under it has for the model."""

    id: RuleId
    description: str
    puts_model_under_review: bool  # an open case makes the model's public standing "under_review"
    allows_interim_suspension: bool  # the model may be suspended before the case is decided


def _rule(rule: RuleId, description: str, *, under_review: bool, interim: bool = False) -> RuleDefinition:
    return RuleDefinition(rule, description, under_review, interim)


# Under review: rules that question whether the record is true or the model is safe to use
# (discrepancy, failed or refused evaluation, false statement, deployment without registration).
# Lateness, an overdue evaluation (often the lab's delay), a concern and a third party's use of an
# unknown model do not question the record, so they open a case without changing public standing.
RULES: Mapping[RuleId, RuleDefinition] = MappingProxyType(
    {
        definition.id: definition
        for definition in (
            _rule(
                RuleId.LATE_TRAINING_NOTICE,
                "A training notice was filed after its deadline (counted from the run crossing a threshold).",
                under_review=False,
            ),
            _rule(
                RuleId.LATE_REGISTRATION,
                "A registration was filed later than the required time before first deployment.",
                under_review=False,
            ),
            _rule(
                RuleId.DEPLOYED_UNREGISTERED,
                "The developer deployed a model that is not registered.",
                under_review=True,
            ),
            _rule(
                RuleId.USED_UNREGISTERED,
                "A model unknown to the registry was reported in use or looked up.",
                under_review=False,
            ),
            _rule(
                RuleId.COMPUTE_DISCREPANCY,
                "Independent estimates of training compute exceed the declaration beyond tolerance "
                "or cross a threshold the declaration does not.",
                under_review=True,
            ),
            _rule(
                RuleId.EVALUATION_FAILED,
                "An accredited lab's required evaluation failed in at least one domain.",
                under_review=True,
                interim=True,
            ),
            _rule(
                RuleId.EVALUATION_CONCERN,
                "An accredited lab's evaluation raised a concern (no failure); an officer reviews it.",
                under_review=False,
            ),
            _rule(
                RuleId.EVALUATION_OVERDUE,
                "A required evaluation was not completed by its deadline.",
                under_review=False,
            ),
            _rule(
                RuleId.EVALUATION_REFUSED,
                "The developer refused an accredited lab access for a required evaluation.",
                under_review=True,
                interim=True,
            ),
            _rule(
                RuleId.LATE_INCIDENT_REPORT,
                "A critical safety incident was reported after its deadline "
                "(days after discovery, or hours if there was imminent risk).",
                under_review=False,
            ),
            _rule(
                RuleId.FALSE_STATEMENT,
                "A filing contained a statement found to be false.",
                under_review=True,
            ),
        )
    }
)


class RuleBreach(FrozenModel):
    """A rule was breached: what, by which model, when, and the reasons an officer can read."""

    rule: RuleId
    model_key: NonBlank  # the registry id, or an `unregistered:` key for a model not in the registry
    registry_id: str | None
    model_version: PositiveInt | None = None
    occurred_at: AwareDatetime  # when the breach happened (deadline missed, use seen, result received)
    summary: NonBlank
    reasons: tuple[str, ...]
    reference: str | None = None  # id of the finding, filing, request or incident that shows it
    profile_id: NonBlank


def unregistered_model_key(model_name: str, developer: str | None) -> str:
    """Case key of a model without a registry id: case- and spacing-insensitive developer/name."""

    def normalise(text: str) -> str:
        return " ".join(text.split()).casefold()

    developer_part = normalise(developer) if developer and developer.strip() else "unknown-developer"
    return f"unregistered:{developer_part}/{normalise(model_name)}"


def format_flop(value: float) -> str:
    """Compact FLOP count, e.g. 9.1e24."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def evaluate_trigger(trigger: Trigger, profile: RuleProfile) -> RuleBreach | None:
    """Decide whether `trigger` shows a breach under `profile`; None means no breach (no action)."""
    match trigger:
        case ComputeVerificationFinding():
            return _compute_discrepancy(trigger, profile)
        case EvaluationOutcome():
            return _evaluation_outcome(trigger, profile)
        case EvaluationOverdue():
            return _evaluation_overdue(trigger, profile)
        case EvaluationRefused():
            return _evaluation_refused(trigger, profile)
        case LateFiling():
            return _late_filing(trigger, profile)
        case UnregisteredUse():
            return _unregistered_use(trigger, profile)
        case IncidentReported():
            return _incident_report(trigger, profile)
        case FalseStatementFound():
            return _false_statement(trigger, profile)
    raise TypeError(f"trigger: unsupported type {type(trigger).__name__}")


def _compute_discrepancy(finding: ComputeVerificationFinding, profile: RuleProfile) -> RuleBreach | None:
    if finding.status is not VerificationStatus.DISCREPANCY or finding.max_estimate_flop is None:
        return None  # consistent, or not enough evidence to say either way
    declared, estimate = finding.declared_flop, finding.max_estimate_flop
    reasons = [
        f"Verification found a discrepancy: {finding.summary}",
        f"Declared {format_flop(declared)} FLOP; the highest independent estimate is "
        f"{format_flop(estimate)} FLOP ({estimate / declared:.2f}x the declaration; "
        f"tolerance {finding.tolerance_factor:g}x).",
    ]
    for name, threshold in (
        ("frontier", profile.thresholds.frontier_flop),
        ("reportable", profile.thresholds.reportable_flop),
    ):
        if estimate > threshold >= declared:
            reasons.append(
                f"The estimate crosses the {name} threshold ({format_flop(threshold)} FLOP, "
                f"profile {profile.id}) but the declaration does not."
            )
            break
    reasons.extend(finding.reasons)
    return RuleBreach(
        rule=RuleId.COMPUTE_DISCREPANCY,
        model_key=finding.registry_id,
        registry_id=finding.registry_id,
        model_version=finding.version,
        occurred_at=finding.verified_at,
        summary=f"Declared training compute of {finding.registry_id} v{finding.version} "
        f"is contradicted by independent estimates.",
        reasons=tuple(reasons),
        reference=finding.verification_id,
        profile_id=profile.id,
    )


def _evaluation_outcome(outcome: EvaluationOutcome, profile: RuleProfile) -> RuleBreach | None:
    if outcome.overall is EvaluationVerdict.PASS:
        return None
    rule = RuleId.EVALUATION_FAILED if outcome.overall is EvaluationVerdict.FAIL else RuleId.EVALUATION_CONCERN
    reasons = [f"Lab {outcome.lab_id} returned '{outcome.overall}' overall for request {outcome.request_id}."]
    for result in outcome.domain_results:
        if result.verdict is EvaluationVerdict.PASS:
            continue
        score = ""
        if result.score is not None and result.threshold is not None:
            score = f" (score {result.score:g} against threshold {result.threshold:g})"
        elif result.score is not None:
            score = f" (score {result.score:g})"
        reasons.append(f"{result.domain}: {result.verdict}{score}.")
    return RuleBreach(
        rule=rule,
        model_key=outcome.registry_id,
        registry_id=outcome.registry_id,
        model_version=outcome.version,
        occurred_at=outcome.completed_at,
        summary=f"Evaluation of {outcome.registry_id} v{outcome.version} by {outcome.lab_id}: {outcome.overall}.",
        reasons=tuple(reasons),
        reference=outcome.request_id,
        profile_id=profile.id,
    )


def _evaluation_overdue(overdue: EvaluationOverdue, profile: RuleProfile) -> RuleBreach | None:
    if overdue.observed_at <= overdue.due_at:
        return None  # not overdue yet: a scheduler fired early or clocks disagree
    late_by = describe_duration(overdue.observed_at - overdue.due_at)
    domains = ", ".join(overdue.domains) if overdue.domains else "unspecified domains"
    return RuleBreach(
        rule=RuleId.EVALUATION_OVERDUE,
        model_key=overdue.registry_id,
        registry_id=overdue.registry_id,
        occurred_at=overdue.due_at,
        summary=f"Evaluation request {overdue.request_id} for {overdue.registry_id} is overdue.",
        reasons=(
            f"Request {overdue.request_id} to lab {overdue.lab_id} ({domains}) was due by "
            f"{describe_time(overdue.due_at)}.",
            f"Still outstanding at {describe_time(overdue.observed_at)}: {late_by} overdue.",
            f"Profile {profile.id} gives evaluations {profile.deadlines.evaluation_default_days} days by default.",
        ),
        reference=overdue.request_id,
        profile_id=profile.id,
    )


def _evaluation_refused(refused: EvaluationRefused, profile: RuleProfile) -> RuleBreach:
    return RuleBreach(
        rule=RuleId.EVALUATION_REFUSED,
        model_key=refused.registry_id,
        registry_id=refused.registry_id,
        occurred_at=refused.refused_at,
        summary=f"The developer of {refused.registry_id} refused evaluation access to {refused.lab_id}.",
        reasons=(
            f"Request {refused.request_id}: access refused on {describe_time(refused.refused_at)}.",
            f"Reported explanation: {refused.explanation}",
        ),
        reference=refused.request_id,
        profile_id=profile.id,
    )


def _late_filing(filing: LateFiling, profile: RuleProfile) -> RuleBreach | None:
    deadlines = profile.deadlines
    if filing.filing_kind is FilingKind.TRAINING_NOTICE:
        days = deadlines.training_notice_days_after_crossing
        due = filing.anchor_at + timedelta(days=days)
        rule = RuleId.LATE_TRAINING_NOTICE
        rule_line = f"Profile {profile.id}: a training notice is due within {days} days of a run crossing "
        rule_line += "a threshold."
        anchor_line = f"The run crossed a threshold on {describe_time(filing.anchor_at)}"
    else:
        days = deadlines.registration_days_before_deployment
        due = filing.anchor_at - timedelta(days=days)
        rule = RuleId.LATE_REGISTRATION
        rule_line = f"Profile {profile.id}: registration is due at least {days} days before first deployment."
        anchor_line = f"First deployment is on {describe_time(filing.anchor_at)}"
    if filing.filed_at <= due:
        return None
    reasons = [
        rule_line,
        f"{anchor_line}, so the {filing.filing_kind.replace('_', ' ')} was due by {describe_time(due)}.",
        f"It was filed on {describe_time(filing.filed_at)}, {describe_duration(filing.filed_at - due)} late.",
    ]
    if filing.filing_kind is FilingKind.REGISTRATION and filing.filed_at > filing.anchor_at:
        reasons.append("The registration was filed after deployment began.")
    return RuleBreach(
        rule=rule,
        model_key=filing.registry_id,
        registry_id=filing.registry_id,
        occurred_at=due,
        summary=f"Late {filing.filing_kind.replace('_', ' ')} for {filing.registry_id}.",
        reasons=tuple(reasons),
        reference=filing.filing_id,
        profile_id=profile.id,
    )


def _unregistered_use(use: UnregisteredUse, profile: RuleProfile) -> RuleBreach:
    deployed = use.source is UseSource.DEVELOPER_DEPLOYMENT
    developer = use.developer.strip() if use.developer and use.developer.strip() else "an unknown developer"
    how = {
        UseSource.USAGE_REPORT: f"reported in use{f' by {use.reporter}' if use.reporter else ''}",
        UseSource.LOOKUP: "looked up",
        UseSource.DEVELOPER_DEPLOYMENT: "deployed by its developer",
    }[use.source]
    return RuleBreach(
        rule=RuleId.DEPLOYED_UNREGISTERED if deployed else RuleId.USED_UNREGISTERED,
        model_key=unregistered_model_key(use.model_name, use.developer),
        registry_id=None,
        occurred_at=use.seen_at,
        summary=f"Unregistered model {use.model_name!r} by {developer} was {how}.",
        reasons=(
            f"Model {use.model_name!r} by {developer} was {how} on {describe_time(use.seen_at)} ({use.source}).",
            "The registry holds no registration for it; only registered models in good standing may be used.",
        ),
        reference=use.report_id,
        profile_id=profile.id,
    )


def _incident_report(incident: IncidentReported, profile: RuleProfile) -> RuleBreach | None:
    deadlines = profile.deadlines
    if incident.imminent_risk:
        allowed = timedelta(hours=deadlines.incident_imminent_risk_hours)
        limit_text = f"{deadlines.incident_imminent_risk_hours} hours of discovery (imminent risk)"
    else:
        allowed = timedelta(days=deadlines.incident_report_days)
        limit_text = f"{deadlines.incident_report_days} days of discovery"
    due: datetime = incident.discovered_at + allowed
    if incident.reported_at <= due:
        return None
    return RuleBreach(
        rule=RuleId.LATE_INCIDENT_REPORT,
        model_key=incident.registry_id,
        registry_id=incident.registry_id,
        occurred_at=due,
        summary=f"Incident {incident.incident_id} on {incident.registry_id} was reported late.",
        reasons=(
            f"Profile {profile.id}: a critical safety incident must be reported within {limit_text}.",
            f"Discovered {describe_time(incident.discovered_at)}, so due by {describe_time(due)}.",
            f"Reported {describe_time(incident.reported_at)}, {describe_duration(incident.reported_at - due)} late.",
        ),
        reference=incident.incident_id,
        profile_id=profile.id,
    )


def _false_statement(found: FalseStatementFound, profile: RuleProfile) -> RuleBreach:
    return RuleBreach(
        rule=RuleId.FALSE_STATEMENT,
        model_key=found.registry_id,
        registry_id=found.registry_id,
        model_version=found.version,
        occurred_at=found.found_at,
        summary=f"False statement in {found.registry_id} v{found.version} ({found.statement_field}).",
        reasons=(
            f"Field {found.statement_field!r} of version {found.version} was found false by {found.found_by}.",
            f"Finding: {found.finding}",
        ),
        reference=found.finding_id,
        profile_id=profile.id,
    )
