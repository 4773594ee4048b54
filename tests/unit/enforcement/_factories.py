"""Builders for enforcement unit tests: a profile, times, and cases in any status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.enforcement.domain import (
    ActionKind,
    ActionTaken,
    Case,
    CaseStatus,
    DecisionOutcome,
    ResolutionReason,
    RuleId,
    Standing,
)
from services.plumbing.rule_profile import BUILTIN_DIR, RuleProfile, load_rule_profile, parse_rule_profile

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REGISTRY_ID = "FRM-2026-000042"


def baseline() -> RuleProfile:
    return load_rule_profile("baseline-2026-01")


def profile_with(replacements: dict[str, str]) -> RuleProfile:
    """The baseline profile with exact TOML lines swapped, to prove numbers come from the profile."""
    text = (Path(BUILTIN_DIR) / "baseline-2026-01.toml").read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_rule_profile(text)


def make_case(status: CaseStatus = CaseStatus.OPENED, **overrides: Any) -> Case:
    """A valid case in `status`, with the fields that status implies."""
    fields: dict[str, Any] = {
        "id": "case-1",
        "model_key": REGISTRY_ID,
        "registry_id": REGISTRY_ID,
        "rule": RuleId.COMPUTE_DISCREPANCY,
        "status": status,
        "opened_at": NOW - timedelta(days=60),
        "updated_at": NOW - timedelta(days=1),
        "profile_id": "baseline-2026-01",
        "breach_count": 1,
        "first_breach_at": NOW - timedelta(days=61),
        "last_breach_at": NOW - timedelta(days=61),
        "summary": "Declared compute contradicted by estimates.",
    }
    if status in (CaseStatus.NOTICE_ISSUED, CaseStatus.AWAITING_RESPONSE, CaseStatus.READY_FOR_DECISION):
        fields["response_due_at"] = NOW + timedelta(days=10)
    if status in (CaseStatus.DECIDED, CaseStatus.APPEALED, CaseStatus.CLOSED):
        fields["response_due_at"] = NOW - timedelta(days=20)
        fields["decision"] = DecisionOutcome.BREACH_ESTABLISHED
        fields["decided_at"] = NOW - timedelta(days=5)
        fields["appeal_deadline_at"] = NOW + timedelta(days=25)
    if status is CaseStatus.CLOSED:
        fields["resolution"] = ResolutionReason.SANCTIONED
        fields["closed_at"] = NOW - timedelta(days=2)
    fields.update(overrides)
    return Case(**fields)


def make_action(
    kind: ActionKind,
    *,
    action_id: str = "act-1",
    effective_at: datetime = NOW - timedelta(days=3),
    taken_at: datetime | None = None,
    model_key: str = REGISTRY_ID,
) -> ActionTaken:
    """A stored action on the test model."""
    implied = {
        ActionKind.SUSPENSION: Standing.SUSPENDED,
        ActionKind.REINSTATEMENT: Standing.REGISTERED_GOOD_STANDING,
    }
    money: dict[str, Any] = {"amount": 1000, "currency": "USD"} if kind is ActionKind.PENALTY else {}
    return ActionTaken(
        action_id=action_id,
        kind=kind,
        case_id="case-0",
        model_key=model_key,
        registry_id=REGISTRY_ID,
        rule=RuleId.EVALUATION_FAILED,
        actor="officer-7",
        reason="test",
        taken_at=taken_at or effective_at,
        effective_at=effective_at,
        implied_standing=implied.get(kind),
        summary=f"{kind} on the test model",
        **money,
    )
