from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from registry_contracts import Tier
from services.evaluations.domain import (
    CatalogueError,
    EvaluationPlan,
    LabExclusionReason,
    PlanningError,
    PlanTrigger,
    TriggerKind,
    evaluation_request_id,
    is_periodic_evaluation_due,
    periodic_due_at,
    periodic_trigger,
    restarts_periodic_clock,
)
from services.evaluations.domain.errors import EvaluationsDomainError

from .factories import ALL_DOMAINS, CATALOGUE, NOW, PROFILE, lab, model, plan

pytestmark = pytest.mark.unit


def _assignments(result: EvaluationPlan) -> dict[str, str]:
    return {r.domain: r.lab_id for r in result.requests}


def test_frontier_registration_requests_every_domain_balanced_across_labs() -> None:
    result = plan()
    assert result.required_domains == ALL_DOMAINS
    # Equal labs alternate: ties go to the lower lab id, then the other is less loaded.
    assert _assignments(result) == {
        "chem_bio": "lab-a",
        "cyber_offence": "lab-b",
        "autonomy_ai_rnd": "lab-a",
        "persuasion": "lab-b",
        "safeguard_robustness": "lab-a",
    }
    assert result.unassignable == () and result.supersede == () and result.already_requested == ()
    first = result.requests[0]
    assert first.suite_ids == ("cb-hazardous-knowledge", "cb-protocol-troubleshooting")
    assert first.model_version == 1 and first.developer == "Acme AI"
    assert first.rule_profile_id == PROFILE.id and first.catalogue_version == CATALOGUE.version
    assert result.tier is Tier.FRONTIER and not result.is_empty


def test_reportable_tier_requires_the_profile_subset() -> None:
    result = plan(model_=model(tier=Tier.REPORTABLE))
    assert result.required_domains == ("chem_bio", "cyber_offence", "safeguard_robustness")
    assert [r.domain for r in result.requests] == list(result.required_domains)


@pytest.mark.parametrize("tier", [Tier.BELOW, Tier.NEAR_THRESHOLD])
def test_below_threshold_gives_an_empty_plan_with_a_reason(tier: Tier) -> None:
    result = plan(model_=model(tier=tier))
    assert result.is_empty and result.required_domains == () and result.deadline is None
    assert any(f"no evaluations required: tier {tier}" in r for r in result.reasons)


def test_below_threshold_with_designated_domains_is_planned() -> None:
    result = plan(model_=model(tier=Tier.BELOW, designated_domains=("persuasion", "chem_bio")))
    assert result.required_domains == ("chem_bio", "persuasion")  # catalogue order
    assert [r.domain for r in result.requests] == ["chem_bio", "persuasion"]
    assert "designated by the regulator: ['chem_bio', 'persuasion']" in result.reasons


# --- conflicts of interest -------------------------------------------------------------------------


@pytest.mark.parametrize("declared", ["Acme AI", " ACME ai ", "acme-ai, Inc.", "ACMEAI"])
def test_affiliated_lab_never_assigned_whatever_the_spelling(declared: str) -> None:
    result = plan(labs=(lab("lab-a", affiliations=[declared]), lab("lab-b")))
    assert set(_assignments(result).values()) == {"lab-b"}


def test_lab_affiliated_with_a_developer_affiliate_is_conflicted() -> None:
    conflicted = lab("lab-a", affiliations=["Acme Cloud Ltd"])
    result = plan(model_=model(developer_affiliates=("acme cloud",)), labs=(conflicted, lab("lab-b", capacity=100)))
    assert set(_assignments(result).values()) == {"lab-b"}


def test_only_affiliated_labs_make_the_domain_unassignable_with_reasons() -> None:
    labs = (
        lab("lab-a", affiliations=["ACME AI"], domains=("cyber_offence",)),
        lab("lab-b", domains=("chem_bio", "autonomy_ai_rnd", "persuasion", "safeguard_robustness")),
    )
    result = plan(labs=labs)
    assert [u.domain for u in result.unassignable] == ["cyber_offence"]
    gap = result.unassignable[0]
    assert gap.reason.startswith(
        "no accredited lab covers cyber_offence with free capacity that is not affiliated with Acme AI"
    )
    assert "Lab lab-a declared an affiliation with Acme AI" in gap.reason
    assert [(e.lab_id, e.reason) for e in gap.exclusions] == [("lab-a", LabExclusionReason.AFFILIATED)]
    assert gap.suite_ids == ("cyber-ctf", "cyber-vuln-exploit")
    assert gap.request_id == evaluation_request_id(
        registry_id="frm-0001",
        model_version=1,
        domain="cyber_offence",
        trigger=PlanTrigger(kind="registration"),
    )
    assert len(result.requests) == 4


def test_domain_no_lab_covers_says_so() -> None:
    result = plan(labs=(lab("lab-a", domains=("chem_bio",)),), model_=model(tier=Tier.REPORTABLE))
    reasons = {u.domain: u.reason for u in result.unassignable}
    assert reasons["cyber_offence"] == "no lab is accredited for cyber_offence at all"
    assert [u.exclusions for u in result.unassignable] == [(), ()]


# --- capacity and balance --------------------------------------------------------------------------


def test_lab_at_capacity_is_excluded() -> None:
    result = plan(labs=(lab("lab-a", capacity=3), lab("lab-b", capacity=0)), open_load={"lab-a": 3})
    assert result.requests == ()
    assert len(result.unassignable) == 5
    details = [e.detail for e in result.unassignable[0].exclusions]
    assert details == ["Lab lab-a is at capacity (3/3 open)", "Lab lab-b is at capacity (0/0 open)"]


def test_capacity_is_consumed_within_one_plan() -> None:
    result = plan(labs=(lab("lab-a", capacity=3),), open_load={"lab-a": 1})
    assert [r.domain for r in result.requests] == ["chem_bio", "cyber_offence"]
    assert [u.domain for u in result.unassignable] == [
        "autonomy_ai_rnd",
        "persuasion",
        "safeguard_robustness",
    ]
    assert "(3/3 open)" in result.unassignable[0].reason


def test_least_loaded_ratio_wins_not_least_absolute_load() -> None:
    # lab-a 5/10 = 0.5 versus lab-b 1/4 = 0.25: lab-b first although it has fewer slots.
    labs = (lab("lab-a", capacity=10), lab("lab-b", capacity=4))
    result = plan(labs=labs, open_load={"lab-a": 5, "lab-b": 1}, model_=model(tier=Tier.REPORTABLE))
    # b 1/4 -> b (2/4 = 0.5 ties a 5/10 -> a by id) -> a 6/10 vs b 2/4: b.
    assert _assignments(result) == {
        "chem_bio": "lab-b",
        "cyber_offence": "lab-a",
        "safeguard_robustness": "lab-b",
    }


def test_equal_ratios_tie_break_by_lab_id_regardless_of_input_order() -> None:
    labs = (lab("lab-z", capacity=6), lab("lab-m", capacity=3))
    result = plan(
        labs=labs,
        open_load={"lab-z": 2, "lab-m": 1},
        model_=model(tier=Tier.BELOW, designated_domains=("chem_bio",)),
    )
    assert _assignments(result) == {"chem_bio": "lab-m"}


def test_open_load_for_unknown_labs_is_ignored_and_missing_load_is_zero() -> None:
    result = plan(
        labs=(lab("lab-a", capacity=1),),
        open_load={"lab-gone": 7},
        model_=model(tier=Tier.BELOW, designated_domains=("persuasion",)),
    )
    assert _assignments(result) == {"persuasion": "lab-a"}


# --- accreditation ---------------------------------------------------------------------------------


def test_expired_accreditation_excludes_the_lab() -> None:
    labs = (lab("lab-a", accredited_until=date(2026, 3, 9)), lab("lab-b"))
    result = plan(labs=labs)
    assert set(_assignments(result).values()) == {"lab-b"}


def test_accreditation_ending_today_still_counts() -> None:
    result = plan(labs=(lab("lab-a", accredited_until=NOW.date()),))
    assert len(result.requests) == 5


def test_expired_and_unaccredited_labs_are_explained() -> None:
    labs = (lab("lab-a", accredited_until=date(2026, 1, 31)), lab("lab-b", accredited=False))
    result = plan(labs=labs, model_=model(tier=Tier.BELOW, designated_domains=("chem_bio",)))
    exclusions = result.unassignable[0].exclusions
    assert [(e.lab_id, e.reason) for e in exclusions] == [
        ("lab-a", LabExclusionReason.ACCREDITATION_EXPIRED),
        ("lab-b", LabExclusionReason.NOT_ACCREDITED),
    ]
    assert "accreditation ended 2026-01-31" in exclusions[0].detail


def test_a_lab_can_have_several_exclusions() -> None:
    bad = lab("lab-a", accredited_until=date(2025, 1, 1), affiliations=["Acme AI"], capacity=1)
    result = plan(labs=(bad,), open_load={"lab-a": 1}, model_=model(tier=Tier.BELOW, designated_domains=("chem_bio",)))
    assert [e.reason for e in result.unassignable[0].exclusions] == [
        LabExclusionReason.ACCREDITATION_EXPIRED,
        LabExclusionReason.AFFILIATED,
        LabExclusionReason.AT_CAPACITY,
    ]


# --- triggers --------------------------------------------------------------------------------------


def test_regulator_request_adds_extra_domains() -> None:
    trigger = PlanTrigger(kind=TriggerKind.REGULATOR_REQUEST, reference="ORD-2026-7", extra_domains=("persuasion",))
    result = plan(model_=model(tier=Tier.REPORTABLE), trigger=trigger)
    assert result.required_domains == ("chem_bio", "cyber_offence", "persuasion", "safeguard_robustness")
    assert "regulator request adds: ['persuasion']" in result.reasons
    assert all(r.trigger == trigger for r in result.requests)


def test_regulator_request_on_a_below_threshold_model_plans_only_its_domains() -> None:
    trigger = PlanTrigger(kind="regulator_request", reference="ORD-1", extra_domains=("autonomy_ai_rnd",))
    result = plan(model_=model(tier=Tier.BELOW), trigger=trigger)
    assert [r.domain for r in result.requests] == ["autonomy_ai_rnd"]


def test_regulator_request_naming_an_unknown_domain_is_a_clear_error() -> None:
    trigger = PlanTrigger(kind="regulator_request", reference="ORD-1", extra_domains=("nuclear",))
    with pytest.raises(CatalogueError, match=r"required domains: unknown evaluation domain\(s\) \['nuclear'\]"):
        plan(trigger=trigger)


@pytest.mark.parametrize("kind", ["registration", "substantial_amendment", "incident", "periodic"])
def test_extra_domains_only_on_regulator_requests(kind: str) -> None:
    with pytest.raises(ValueError, match="extra_domains is only allowed on a regulator_request"):
        PlanTrigger(kind=kind, reference="x", extra_domains=("chem_bio",))


@pytest.mark.parametrize("kind", ["incident", "periodic", "regulator_request"])
def test_recurring_triggers_need_a_reference(kind: str) -> None:
    with pytest.raises(ValueError, match=f"reference is required for a {kind} trigger"):
        PlanTrigger(kind=kind, reference="   ")


def test_unknown_designated_domain_is_a_clear_error() -> None:
    with pytest.raises(CatalogueError, match=r"\['bio'\]"):
        plan(model_=model(designated_domains=("bio",)))


# --- deterministic ids -----------------------------------------------------------------------------


def test_replanning_the_same_trigger_yields_the_same_ids_even_if_labs_differ() -> None:
    first = plan()
    again = plan(labs=(lab("lab-q"),), open_load={"lab-q": 3}, now=NOW + timedelta(hours=5))
    assert [r.request_id for r in first.requests] == [r.request_id for r in again.requests]
    assert len({r.request_id for r in first.requests}) == 5


def _id(
    *,
    registry_id: str = "frm-0001",
    version: int = 1,
    domain: str = "chem_bio",
    trigger: PlanTrigger = PlanTrigger(kind="registration"),
) -> str:
    return evaluation_request_id(registry_id=registry_id, model_version=version, domain=domain, trigger=trigger)


def test_ids_differ_by_model_version_domain_and_trigger_occurrence() -> None:
    ids = {
        _id(),
        _id(version=2),
        _id(domain="persuasion"),
        _id(registry_id="frm-0002"),
        _id(trigger=PlanTrigger(kind="substantial_amendment")),
        _id(trigger=PlanTrigger(kind="incident", reference="INC-1")),
        _id(trigger=PlanTrigger(kind="incident", reference="INC-2")),
        _id(trigger=PlanTrigger(kind="periodic", reference="2026-Q2")),
    }
    assert len(ids) == 8


def test_request_id_is_pinned_across_releases() -> None:
    # A change here would re-create every request when an old event is replayed.
    assert _id() == "c2567197-fe8c-5e1f-a6af-299cc49daff4"
    assert plan().requests[0].request_id == _id()


# --- bad input -------------------------------------------------------------------------------------


def test_naive_now_is_refused() -> None:
    with pytest.raises(EvaluationsDomainError, match="now: must be timezone-aware"):
        plan(now=datetime(2026, 3, 10, 9, 30))


def test_now_in_another_zone_is_normalised_to_utc() -> None:
    from zoneinfo import ZoneInfo

    result = plan(now=NOW.astimezone(ZoneInfo("Asia/Tokyo")))
    assert result.planned_at == NOW and result.planned_at.tzinfo is UTC


def test_duplicate_lab_ids_rejected() -> None:
    with pytest.raises(PlanningError, match=r"labs: duplicate lab ids \['lab-a'\]"):
        plan(labs=(lab("lab-a"), lab("lab-a")))


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_open_load_rejected(bad: object) -> None:
    with pytest.raises(PlanningError, match=r"open_load\[lab-a\]: must be a non-negative integer"):
        plan(open_load={"lab-a": bad})  # type: ignore[dict-item]


def test_lab_with_an_uncatalogued_domain_rejected() -> None:
    with pytest.raises(CatalogueError, match=r"labs\[lab-a\]\.domains"):
        plan(labs=(lab("lab-a", domains=("chem_bio", "weather")),))


def test_existing_requests_of_another_model_rejected() -> None:
    other = plan(model_=model(registry_id="frm-9999")).requests
    with pytest.raises(PlanningError, match="belong to another model"):
        plan(existing=other)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"version": 0}, "version"),
        ({"developer": "  "}, "developer"),
        ({"tier": "huge"}, "tier"),
        ({"registry_id": ""}, "registry_id"),
    ],
)
def test_bad_model_fields_name_the_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        model(**override)


# --- periodic --------------------------------------------------------------------------------------


def test_periodic_due_after_the_profile_interval() -> None:
    days = PROFILE.deadlines.evaluation_periodic_days
    assert is_periodic_evaluation_due(last_evaluated_at=None, now=NOW, profile=PROFILE)
    assert not is_periodic_evaluation_due(
        last_evaluated_at=NOW - timedelta(days=days) + timedelta(seconds=1), now=NOW, profile=PROFILE
    )
    assert is_periodic_evaluation_due(last_evaluated_at=NOW - timedelta(days=days), now=NOW, profile=PROFILE)


def test_the_periodic_trigger_names_its_cycle_by_the_day_it_came_due() -> None:
    last = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    trigger = periodic_trigger(last_full_plan_at=last, profile=PROFILE)
    assert trigger.kind is TriggerKind.PERIODIC
    due = last + timedelta(days=PROFILE.deadlines.evaluation_periodic_days)
    assert trigger.reference == f"cycle due {due:%Y-%m-%d}"
    assert periodic_due_at(last_full_plan_at=last, profile=PROFILE) == due
    assert periodic_trigger(last_full_plan_at=last, profile=PROFILE) == trigger  # the same cycle: the same ids


@pytest.mark.parametrize(
    ("trigger", "restarts"),
    [
        (PlanTrigger(kind=TriggerKind.REGISTRATION), True),
        (PlanTrigger(kind=TriggerKind.SUBSTANTIAL_AMENDMENT), True),
        (PlanTrigger(kind=TriggerKind.PERIODIC, reference="cycle due 2026-06-01"), True),
        (PlanTrigger(kind=TriggerKind.INCIDENT, reference="INC-1"), False),  # only some domains, for one cause
        (PlanTrigger(kind=TriggerKind.REGULATOR_REQUEST, reference="ORDER-1"), False),
    ],
)
def test_full_plans_restart_the_periodic_clock(trigger: PlanTrigger, restarts: bool) -> None:
    assert restarts_periodic_clock(plan(trigger=trigger)) is restarts


def test_a_plan_requiring_nothing_does_not_start_the_periodic_clock() -> None:
    assert not restarts_periodic_clock(plan(model_=model(tier=Tier.BELOW)))


# --- domains waiting for a lab ---------------------------------------------------------------------


def test_a_waiting_domain_is_assigned_with_the_id_its_first_plan_announced() -> None:
    only_a = (lab("lab-a", domains=[d for d in ALL_DOMAINS if d != "persuasion"]),)
    first = plan(labs=only_a)
    [waiting] = first.unassignable
    assert waiting.domain == "persuasion"
    # Later a lab covers it; the other domains were settled by the first plan and are left alone, even though
    # their requests are not passed in here.
    retry = plan(labs=(*only_a, lab("lab-p", domains=["persuasion"])), waiting_only=("persuasion",))
    assert [(r.domain, r.lab_id, r.request_id) for r in retry.requests] == [("persuasion", "lab-p", waiting.request_id)]
    assert retry.unassignable == () and retry.required_domains == ALL_DOMAINS


def test_a_waiting_domain_still_without_a_lab_stays_unassignable() -> None:
    retry = plan(labs=(lab("lab-a", domains=["chem_bio"]),), waiting_only=("persuasion", "cyber_offence"))
    assert retry.requests == ()
    assert [u.domain for u in retry.unassignable] == ["cyber_offence", "persuasion"]
