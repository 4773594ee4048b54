"""Builders for evaluations unit tests: one place that knows sensible defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from registry_contracts import Tier
from services.evaluations.domain import (
    EvaluationCatalogue,
    EvaluationPlan,
    EvaluationRequest,
    Lab,
    ModelUnderEvaluation,
    PlanTrigger,
    TriggerKind,
    load_catalogue,
    plan_evaluations,
)
from services.plumbing.rule_profile import RuleProfile, load_rule_profile

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ALL_DOMAINS = ("chem_bio", "cyber_offence", "autonomy_ai_rnd", "persuasion", "safeguard_robustness")
PROFILE: RuleProfile = load_rule_profile("baseline-2026-01")
CATALOGUE: EvaluationCatalogue = load_catalogue()


def lab(lab_id: str, **overrides: Any) -> Lab:
    fields: dict[str, Any] = {
        "lab_id": lab_id,
        "name": f"Lab {lab_id}",
        "accredited": True,
        "accredited_until": date(2027, 1, 1),
        "domains": ALL_DOMAINS,
        "capacity": 10,
        "affiliations": (),
    }
    return Lab.model_validate(fields | overrides)


def model(**overrides: Any) -> ModelUnderEvaluation:
    fields: dict[str, Any] = {
        "registry_id": "frm-0001",
        "version": 1,
        "developer": "Acme AI",
        "tier": Tier.FRONTIER,
    }
    return ModelUnderEvaluation.model_validate(fields | overrides)


REGISTRATION = PlanTrigger(kind=TriggerKind.REGISTRATION)


def plan(
    *,
    model_: ModelUnderEvaluation | None = None,
    trigger: PlanTrigger = REGISTRATION,
    labs: tuple[Lab, ...] | None = None,
    open_load: dict[str, int] | None = None,
    existing: tuple[EvaluationRequest, ...] = (),
    now: datetime = NOW,
    profile: RuleProfile = PROFILE,
    waiting_only: tuple[str, ...] | None = None,
) -> EvaluationPlan:
    return plan_evaluations(
        model=model_ or model(),
        trigger=trigger,
        labs=labs if labs is not None else (lab("lab-a"), lab("lab-b")),
        open_load=open_load or {},
        existing_requests=existing,
        profile=profile,
        catalogue=CATALOGUE,
        now=now,
        waiting_only=waiting_only,
    )
