"""Pure domain of the evaluations service: catalogue, labs, planner and result assessment.

No I/O, no clock: handlers pass the rule profile, the catalogue, labs, existing requests and `now`,
and store what these functions return.
"""

from .assignment import LabExclusion, choose_lab, unassignable_reason
from .catalogue import (
    DEFAULT_CATALOGUE_PATH,
    EvaluationCatalogue,
    EvaluationDomain,
    EvaluationOutcome,
    LabInput,
    RiskDirection,
    Suite,
    load_catalogue,
    parse_catalogue,
)
from .deadlines import DeadlineBasis, evaluation_deadline
from .errors import CatalogueError, EvaluationsDomainError, PlanningError, ResultError
from .lab_messages import LAB_VISIBLE_FIELDS, access_instructions, lab_request_message
from .labs import Lab, LabExclusionReason, normalise_organisation_name, organisation_key
from .planner import AlreadyRequested, EvaluationPlan, Supersession, UnassignableDomain, plan_evaluations
from .requests import (
    EvaluationRequest,
    ModelUnderEvaluation,
    PlanTrigger,
    RequestStatus,
    TriggerKind,
    evaluation_request_id,
)
from .results import (
    OverdueRequest,
    RejectionReason,
    ResultAssessment,
    SubmittedResult,
    SuiteAssessment,
    assess_access_refusal,
    assess_result,
    find_overdue,
    overall_outcome,
)
from .schedule import (
    FULL_PLAN_TRIGGERS,
    is_periodic_evaluation_due,
    periodic_due_at,
    periodic_trigger,
    restarts_periodic_clock,
)

__all__ = [
    "DEFAULT_CATALOGUE_PATH",
    "FULL_PLAN_TRIGGERS",
    "LAB_VISIBLE_FIELDS",
    "AlreadyRequested",
    "CatalogueError",
    "DeadlineBasis",
    "EvaluationCatalogue",
    "EvaluationDomain",
    "EvaluationOutcome",
    "EvaluationPlan",
    "EvaluationRequest",
    "EvaluationsDomainError",
    "Lab",
    "LabExclusion",
    "LabExclusionReason",
    "LabInput",
    "ModelUnderEvaluation",
    "OverdueRequest",
    "PlanTrigger",
    "PlanningError",
    "RejectionReason",
    "RequestStatus",
    "ResultAssessment",
    "ResultError",
    "RiskDirection",
    "SubmittedResult",
    "Suite",
    "SuiteAssessment",
    "Supersession",
    "TriggerKind",
    "UnassignableDomain",
    "access_instructions",
    "assess_access_refusal",
    "assess_result",
    "choose_lab",
    "evaluation_deadline",
    "evaluation_request_id",
    "find_overdue",
    "is_periodic_evaluation_due",
    "lab_request_message",
    "load_catalogue",
    "normalise_organisation_name",
    "organisation_key",
    "overall_outcome",
    "parse_catalogue",
    "periodic_due_at",
    "periodic_trigger",
    "plan_evaluations",
    "restarts_periodic_clock",
    "unassignable_reason",
]
