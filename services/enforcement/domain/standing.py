"""A model's public standing, computed from its registration, open cases and actions.

Precedence, strongest first: unknown (not registered) > suspended (a suspension in force) >
withdrawn (by its developer) > under review (an open case under a rule that questions the record
or safety, see RuleDefinition.puts_model_under_review) > registered and in good standing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import AwareDatetime

from services.enforcement.domain._base import FrozenModel, NonBlank, describe_time, require_aware
from services.enforcement.domain.actions import latest_suspension_state
from services.enforcement.domain.errors import EnforcementInputError
from services.enforcement.domain.models import ActionTaken, Case
from services.enforcement.domain.rules import RULES
from services.enforcement.domain.statuses import DecisionOutcome, Standing


class StandingAssessment(FrozenModel):
    """A model's standing at `as_of`, with the reasons a third party or officer can read."""

    model_key: NonBlank
    standing: Standing
    as_of: AwareDatetime
    reasons: tuple[str, ...]
    cases_under_review: tuple[str, ...] = ()  # ids of open cases that put the model under review
    suspension_action_id: str | None = None  # the suspension in force, if any


def compute_standing(
    *,
    model_key: str,
    registered: bool,
    withdrawn: bool,
    cases: Iterable[Case],
    actions: Iterable[ActionTaken],
    as_of: datetime,
) -> StandingAssessment:
    """The standing of `model_key` at `as_of`, from all of that model's cases and actions.

    Closed cases are ignored. A decided case whose breach was not established no longer puts the
    model under review, even before it is closed. Actions effective after `as_of` do not count yet.
    """
    require_aware("as_of", as_of)
    case_list = list(cases)
    action_list = list(actions)
    for case in case_list:
        if case.model_key != model_key:
            raise EnforcementInputError("cases", f"case {case.id} is on {case.model_key}, not {model_key}")
    for action in action_list:
        if action.model_key != model_key:
            raise EnforcementInputError(
                "actions", f"action {action.action_id} is on {action.model_key}, not {model_key}"
            )

    def assessment(standing: Standing, *reasons: str, **extra: object) -> StandingAssessment:
        return StandingAssessment.model_validate(
            {
                "model_key": model_key,
                "standing": standing,
                "as_of": as_of,
                "reasons": (*reasons, standing.description),
                **extra,
            }
        )

    if not registered:
        return assessment(Standing.UNKNOWN, f"No registration is on record for {model_key}.")
    suspension = latest_suspension_state(action_list, as_of=as_of)
    if suspension is not None:
        return assessment(
            Standing.SUSPENDED,
            f"Suspended by action {suspension.action_id} from {describe_time(suspension.effective_at)} "
            f"(case {suspension.case_id}, rule {suspension.rule}): {suspension.reason}",
            suspension_action_id=suspension.action_id,
        )
    if withdrawn:
        return assessment(Standing.WITHDRAWN, f"{model_key} was withdrawn by its developer.")
    under_review = sorted(
        (
            case
            for case in case_list
            if case.status.is_open
            and RULES[case.rule].puts_model_under_review
            and case.decision is not DecisionOutcome.BREACH_NOT_ESTABLISHED
        ),
        key=lambda case: (case.opened_at, case.id),
    )
    if under_review:
        return assessment(
            Standing.UNDER_REVIEW,
            *(f"Open case {case.id} ({case.rule}, {case.status}): {case.summary}" for case in under_review),
            cases_under_review=tuple(case.id for case in under_review),
        )
    return assessment(Standing.REGISTERED_GOOD_STANDING, f"{model_key} is registered with no case questioning it.")
