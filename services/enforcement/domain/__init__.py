"""The enforcement service's pure domain: rules, the case workflow, actions, penalties, standing.

No I/O, no clock: callers pass `now`, the rule profile and the stored case; functions return
frozen values (breaches, case changes with timeline entries, actions, assessments) for the
handlers to store and publish.

Files, Dispatch-style: triggers (input facts), rules (rule ids and evaluate_trigger), models (case,
timeline, action values), cases (one case per model and rule), workflow (statuses and moves),
actions, penalties, standing, statuses (enums), errors.
"""

from services.enforcement.domain._base import SYSTEM_ACTOR
from services.enforcement.domain.actions import (
    impose_penalty,
    issue_compliance_order,
    issue_warning,
    latest_suspension_state,
    reinstate_model,
    suspend_model,
)
from services.enforcement.domain.cases import add_note, apply_breach, assign_officer, case_key, key_of_case
from services.enforcement.domain.errors import (
    ActionNotAllowed,
    AppealWindowClosed,
    DeadlineNotReached,
    EnforcementInputError,
    IllegalTransition,
)
from services.enforcement.domain.models import ActionKind, ActionTaken, Case, CaseChange, TimelineEntry
from services.enforcement.domain.penalties import (
    PenaltyAssessment,
    PenaltyRegime,
    assess_eu_gpai_penalty,
    assess_per_day_penalty,
    assess_raise_penalty,
    assess_sb53_penalty,
    format_money,
)
from services.enforcement.domain.rules import (
    RULES,
    RuleBreach,
    RuleDefinition,
    RuleId,
    evaluate_trigger,
    unregistered_model_key,
)
from services.enforcement.domain.standing import StandingAssessment, compute_standing
from services.enforcement.domain.statuses import (
    CaseStatus,
    DecisionOutcome,
    ResolutionReason,
    Standing,
    TimelineKind,
)
from services.enforcement.domain.triggers import (
    ComputeVerificationFinding,
    DomainResult,
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
    parse_trigger,
)
from services.enforcement.domain.workflow import (
    ALLOWED_TRANSITIONS,
    CLOSING_RESOLUTIONS,
    allowed_next_statuses,
    handle_response_deadline_passed,
    issue_notice,
    record_developer_response,
    transition,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CLOSING_RESOLUTIONS",
    "RULES",
    "SYSTEM_ACTOR",
    "ActionKind",
    "ActionNotAllowed",
    "ActionTaken",
    "AppealWindowClosed",
    "Case",
    "CaseChange",
    "CaseStatus",
    "ComputeVerificationFinding",
    "DeadlineNotReached",
    "DecisionOutcome",
    "DomainResult",
    "EnforcementInputError",
    "EvaluationOutcome",
    "EvaluationOverdue",
    "EvaluationRefused",
    "EvaluationVerdict",
    "FalseStatementFound",
    "FilingKind",
    "IllegalTransition",
    "IncidentReported",
    "LateFiling",
    "PenaltyAssessment",
    "PenaltyRegime",
    "ResolutionReason",
    "RuleBreach",
    "RuleDefinition",
    "RuleId",
    "Standing",
    "StandingAssessment",
    "TimelineEntry",
    "TimelineKind",
    "Trigger",
    "UnregisteredUse",
    "UseSource",
    "VerificationStatus",
    "add_note",
    "allowed_next_statuses",
    "apply_breach",
    "assess_eu_gpai_penalty",
    "assess_per_day_penalty",
    "assess_raise_penalty",
    "assess_sb53_penalty",
    "assign_officer",
    "case_key",
    "compute_standing",
    "evaluate_trigger",
    "format_money",
    "handle_response_deadline_passed",
    "impose_penalty",
    "issue_compliance_order",
    "issue_notice",
    "issue_warning",
    "key_of_case",
    "latest_suspension_state",
    "parse_trigger",
    "record_developer_response",
    "reinstate_model",
    "suspend_model",
    "transition",
    "unregistered_model_key",
]
