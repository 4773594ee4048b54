"""The evaluation planner: which domains a model version needs, which lab runs each, and by when.

Pure: the caller passes the labs, their current open load, the model's existing requests, the rule
profile, the catalogue and `now`. Replaying the same trigger yields the same request ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from pydantic import Field

from registry_contracts import Tier
from services.plumbing.rule_profile import RuleProfile

from .assignment import LabExclusion, choose_lab, unassignable_reason
from .catalogue import EvaluationCatalogue
from .deadlines import DeadlineBasis, evaluation_deadline
from .errors import Frozen, PlanningError, as_utc
from .labs import Lab
from .requests import (
    EvaluationRequest,
    ModelUnderEvaluation,
    PlanTrigger,
    RequestStatus,
    evaluation_request_id,
)


class UnassignableDomain(Frozen):
    """A required domain no lab could take now; `request_id` is what it will get once assignable."""

    request_id: str
    domain: str
    suite_ids: tuple[str, ...]
    reason: str
    exclusions: tuple[LabExclusion, ...]


class AlreadyRequested(Frozen):
    """A required domain not requested again because a request already covers it."""

    domain: str
    existing_request_id: str
    lab_id: str
    status: RequestStatus
    reason: str


class Supersession(Frozen):
    """An open request for an older version that this plan replaces (results no longer accepted)."""

    request_id: str
    domain: str
    model_version: int
    lab_id: str
    reason: str


class EvaluationPlan(Frozen):
    """What to create, what to supersede and what could not be assigned, with the reasoning."""

    registry_id: str
    model_version: int
    tier: Tier
    trigger: PlanTrigger
    planned_at: datetime
    rule_profile_id: str
    catalogue_version: int
    required_domains: tuple[str, ...]
    deadline: datetime | None = Field(description="Deadline of every new request; None when none is due.")
    deadline_basis: DeadlineBasis | None
    deployment_flagged: bool = Field(description="Deployment is today, tomorrow or past: escalate.")
    requests: tuple[EvaluationRequest, ...]
    unassignable: tuple[UnassignableDomain, ...]
    already_requested: tuple[AlreadyRequested, ...]
    supersede: tuple[Supersession, ...]
    reasons: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """Nothing to create, supersede or chase."""
        return not (self.requests or self.unassignable or self.supersede)


def plan_evaluations(
    *,
    model: ModelUnderEvaluation,
    trigger: PlanTrigger,
    labs: Sequence[Lab],
    open_load: Mapping[str, int],
    existing_requests: Sequence[EvaluationRequest],
    profile: RuleProfile,
    catalogue: EvaluationCatalogue,
    now: datetime,
    waiting_only: Collection[str] | None = None,
) -> EvaluationPlan:
    """Plan a model version's evaluations.

    Required domains = the tier's (profile.evaluations) + designated + the regulator's extra domains.
    Open requests for older versions are superseded; a domain with an open request for this version,
    or already requested by this same trigger, is not requested twice. Each remaining domain goes to
    the least-loaded eligible lab (covers the domain, accredited today, free capacity counting this
    plan's assignments, not affiliated with the developer), ties broken by lab id.

    `waiting_only`: assign only these domains, which an earlier plan for the same trigger could not (a lab
    may have room now); the trigger's other required domains were settled then and are left alone.
    """
    now = as_utc(now, field="now")
    _check_inputs(model=model, labs=labs, open_load=open_load, existing=existing_requests, catalogue=catalogue)
    required = catalogue.ordered(
        (*profile.evaluations.domains_for(model.tier), *model.designated_domains, *trigger.extra_domains),
        field="required domains",
    )
    reasons = _requirement_reasons(model=model, trigger=trigger, profile=profile, catalogue=catalogue)

    def plan(**parts: object) -> EvaluationPlan:
        base: dict[str, object] = {
            "registry_id": model.registry_id,
            "model_version": model.version,
            "tier": model.tier,
            "trigger": trigger,
            "planned_at": now,
            "rule_profile_id": profile.id,
            "catalogue_version": catalogue.version,
            "required_domains": required,
            "deadline": None,
            "deadline_basis": None,
            "deployment_flagged": False,
            "requests": (),
            "unassignable": (),
            "already_requested": (),
            "supersede": (),
            "reasons": tuple(reasons),
        }
        return EvaluationPlan.model_validate(base | parts)

    newest = max((r.model_version for r in existing_requests), default=model.version)
    if newest > model.version:
        reasons.append(f"stale trigger: version {newest} already has requests; plan for it, not {model.version}")
        return plan(required_domains=(), reasons=tuple(reasons))

    supersede = tuple(
        Supersession(
            request_id=r.request_id,
            domain=r.domain,
            model_version=r.model_version,
            lab_id=r.lab_id,
            reason=f"version {model.version} replaces version {r.model_version} ({trigger.kind})",
        )
        for r in existing_requests
        if r.status is RequestStatus.OPEN and r.model_version < model.version
    )
    if not required:
        reasons.append(f"no evaluations required: tier {model.tier} requires none, none designated or requested")
        return plan(supersede=supersede, reasons=tuple(reasons))

    deadline, basis, deadline_note = evaluation_deadline(
        now=now, planned_deployment_date=model.planned_deployment_date, profile=profile
    )
    reasons.append(deadline_note)
    already = _already_requested(model=model, trigger=trigger, required=required, existing=existing_requests)
    covered = {a.domain for a in already}
    # Superseded requests stop counting against their lab as soon as this plan is stored.
    freed = Counter(s.lab_id for s in supersede)
    assigned: Counter[str] = Counter()
    new_requests: list[EvaluationRequest] = []
    unassignable: list[UnassignableDomain] = []
    for domain in required:
        if domain in covered or (waiting_only is not None and domain not in waiting_only):
            continue
        request_id = evaluation_request_id(
            registry_id=model.registry_id, model_version=model.version, domain=domain, trigger=trigger
        )
        suites = catalogue.suites_for(domain)
        load = {
            lab.lab_id: max(0, open_load.get(lab.lab_id, 0) - freed[lab.lab_id]) + assigned[lab.lab_id] for lab in labs
        }
        chosen, exclusions = choose_lab(
            domain=domain, organisations=model.organisations, labs=labs, load=load, today=now.date()
        )
        if chosen is None:
            unassignable.append(
                UnassignableDomain(
                    request_id=request_id,
                    domain=domain,
                    suite_ids=tuple(s.id for s in suites),
                    reason=unassignable_reason(domain=domain, developer=model.developer, exclusions=exclusions),
                    exclusions=exclusions,
                )
            )
            continue
        assigned[chosen.lab_id] += 1
        new_requests.append(
            EvaluationRequest(
                request_id=request_id,
                registry_id=model.registry_id,
                model_version=model.version,
                developer=model.developer,
                model_name=model.model_name,
                domain=domain,
                suites=suites,
                lab_id=chosen.lab_id,
                trigger=trigger,
                catalogue_version=catalogue.version,
                rule_profile_id=profile.id,
                created_at=now,
                deadline=deadline,
            )
        )
    return plan(
        deadline=deadline,
        deadline_basis=basis,
        deployment_flagged=basis in (DeadlineBasis.DEPLOYMENT_TOO_SOON, DeadlineBasis.DEPLOYMENT_PASSED),
        requests=tuple(new_requests),
        unassignable=tuple(unassignable),
        already_requested=already,
        supersede=supersede,
    )


def _check_inputs(
    *,
    model: ModelUnderEvaluation,
    labs: Sequence[Lab],
    open_load: Mapping[str, int],
    existing: Sequence[EvaluationRequest],
    catalogue: EvaluationCatalogue,
) -> None:
    ids = [lab.lab_id for lab in labs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanningError("labs", f"duplicate lab ids {duplicates}")
    for lab in labs:
        catalogue.ordered(lab.domains, field=f"labs[{lab.lab_id}].domains")
    for lab_id, count in open_load.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise PlanningError(f"open_load[{lab_id}]", f"must be a non-negative integer, got {count!r}")
    foreign = sorted({r.request_id for r in existing if r.registry_id != model.registry_id})
    if foreign:
        raise PlanningError("existing_requests", f"requests {foreign} belong to another model")


def _requirement_reasons(
    *, model: ModelUnderEvaluation, trigger: PlanTrigger, profile: RuleProfile, catalogue: EvaluationCatalogue
) -> list[str]:
    by_tier = profile.evaluations.domains_for(model.tier)
    reasons = [
        f"{trigger.kind}{f' ({trigger.reference})' if trigger.reference else ''} for "
        f"{model.registry_id} v{model.version}",
        f"tier {model.tier} requires {list(by_tier) or 'no domains'} under rule profile {profile.id}",
    ]
    if model.designated_domains:
        designated = catalogue.ordered(model.designated_domains, field="model.designated_domains")
        reasons.append(f"designated by the regulator: {list(designated)}")
    if trigger.extra_domains:
        extra = catalogue.ordered(trigger.extra_domains, field="trigger.extra_domains")
        reasons.append(f"regulator request adds: {list(extra)}")
    return reasons


def _already_requested(
    *,
    model: ModelUnderEvaluation,
    trigger: PlanTrigger,
    required: tuple[str, ...],
    existing: Sequence[EvaluationRequest],
) -> tuple[AlreadyRequested, ...]:
    found: list[AlreadyRequested] = []
    for domain in required:
        own_id = evaluation_request_id(
            registry_id=model.registry_id, model_version=model.version, domain=domain, trigger=trigger
        )
        same = [r for r in existing if r.request_id == own_id]
        open_same_version = [
            r
            for r in existing
            if r.model_version == model.version and r.domain == domain and r.status is RequestStatus.OPEN
        ]
        if same:
            hit, why = same[0], "this trigger already created it (replayed event)"
        elif open_same_version:
            hit = min(open_same_version, key=lambda r: r.request_id)
            why = f"an open request for v{model.version} already covers {domain} ({hit.trigger.kind})"
        else:
            continue
        found.append(
            AlreadyRequested(
                domain=domain,
                existing_request_id=hit.request_id,
                lab_id=hit.lab_id,
                status=hit.status,
                reason=why,
            )
        )
    return tuple(found)
