"""Rules: every rule fires on the facts that breach it, stays silent otherwise, and explains itself."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.enforcement.domain import (
    RULES,
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
    RuleId,
    UnregisteredUse,
    UseSource,
    VerificationStatus,
    evaluate_trigger,
    parse_trigger,
    unregistered_model_key,
)
from services.plumbing.rule_profile import RuleProfile

from ._factories import NOW, REGISTRY_ID, profile_with

pytestmark = pytest.mark.unit


def finding(**overrides: Any) -> ComputeVerificationFinding:
    fields: dict[str, Any] = {
        "registry_id": REGISTRY_ID,
        "version": 2,
        "status": VerificationStatus.DISCREPANCY,
        "declared_flop": 3e24,
        "max_estimate_flop": 9.1e24,
        "tolerance_factor": 2.0,
        "summary": "The hardware estimate is 3x the declaration.",
        "reasons": ("C_hw = 4096 x 989e12 x 8.64e6 s x 0.4",),
        "verified_at": NOW,
        "verification_id": "ver-9",
    }
    return ComputeVerificationFinding(**(fields | overrides))


def outcome(overall: EvaluationVerdict, *results: tuple[str, EvaluationVerdict]) -> EvaluationOutcome:
    return EvaluationOutcome(
        registry_id=REGISTRY_ID,
        version=3,
        request_id="req-1",
        lab_id="lab-a",
        domain_results=tuple(
            DomainResult(domain=name, verdict=verdict, score=0.8, threshold=0.5) for name, verdict in results
        ),
        overall=overall,
        completed_at=NOW,
    )


class TestCatalogue:
    def test_every_rule_has_a_definition_and_description(self) -> None:
        assert set(RULES) == set(RuleId)
        for rule in RuleId:
            assert RULES[rule].id is rule
            assert rule.description.endswith(".") and len(rule.description) > 20

    def test_rule_ids_are_stable_strings(self) -> None:
        assert [str(rule) for rule in RuleId] == [
            "late_training_notice",
            "late_registration",
            "deployed_unregistered",
            "used_unregistered",
            "compute_discrepancy",
            "evaluation_failed",
            "evaluation_concern",
            "evaluation_overdue",
            "evaluation_refused",
            "late_incident_report",
            "false_statement",
        ]

    def test_under_review_rules_are_the_documented_set(self) -> None:
        under_review = {rule for rule, spec in RULES.items() if spec.puts_model_under_review}
        assert under_review == {
            RuleId.DEPLOYED_UNREGISTERED,
            RuleId.COMPUTE_DISCREPANCY,
            RuleId.EVALUATION_FAILED,
            RuleId.EVALUATION_REFUSED,
            RuleId.FALSE_STATEMENT,
        }
        interim = {rule for rule, spec in RULES.items() if spec.allows_interim_suspension}
        assert interim == {RuleId.EVALUATION_FAILED, RuleId.EVALUATION_REFUSED}


class TestComputeDiscrepancy:
    def test_discrepancy_is_a_breach_with_the_numbers(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(finding(), profile)
        assert breach is not None
        assert breach.rule is RuleId.COMPUTE_DISCREPANCY
        assert (breach.model_key, breach.registry_id, breach.model_version) == (REGISTRY_ID, REGISTRY_ID, 2)
        assert breach.occurred_at == NOW
        assert breach.reference == "ver-9"
        assert breach.profile_id == "baseline-2026-01"
        assert "Declared 3e24 FLOP; the highest independent estimate is 9.1e24 FLOP (3.03x" in breach.reasons[1]
        assert "tolerance 2x" in breach.reasons[1]
        assert breach.reasons[-1] == "C_hw = 4096 x 989e12 x 8.64e6 s x 0.4"

    def test_threshold_crossing_is_explained(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(finding(declared_flop=6e25, max_estimate_flop=1.5e26), profile)
        assert breach is not None
        assert any("crosses the frontier threshold (1e26 FLOP" in line for line in breach.reasons)
        below = evaluate_trigger(finding(declared_flop=4e24, max_estimate_flop=1.2e25), profile)
        assert below is not None
        assert any("crosses the reportable threshold (1e25 FLOP" in line for line in below.reasons)

    @pytest.mark.parametrize("status", [VerificationStatus.CONSISTENT, VerificationStatus.INSUFFICIENT_EVIDENCE])
    def test_consistent_or_inconclusive_is_no_breach(self, profile: RuleProfile, status: VerificationStatus) -> None:
        assert evaluate_trigger(finding(status=status), profile) is None
        assert evaluate_trigger(finding(status=status, max_estimate_flop=None), profile) is None

    def test_discrepancy_without_estimate_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="max_estimate_flop is required"):
            finding(max_estimate_flop=None)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("declared_flop", 0.0),
            ("declared_flop", -1e25),
            ("declared_flop", float("nan")),
            ("max_estimate_flop", float("inf")),
            ("tolerance_factor", 1.0),
            ("version", 0),
            ("registry_id", "  "),
        ],
    )
    def test_bad_numbers_name_the_field(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError, match=field):
            finding(**{field: value})

    def test_naive_time_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="verified_at"):
            finding(verified_at=NOW.replace(tzinfo=None))


class TestEvaluationOutcome:
    def test_pass_is_no_breach(self, profile: RuleProfile) -> None:
        trigger = outcome(EvaluationVerdict.PASS, ("chem_bio", EvaluationVerdict.PASS))
        assert evaluate_trigger(trigger, profile) is None

    def test_fail_opens_evaluation_failed_listing_failing_domains(self, profile: RuleProfile) -> None:
        trigger = outcome(
            EvaluationVerdict.FAIL,
            ("chem_bio", EvaluationVerdict.FAIL),
            ("cyber_offence", EvaluationVerdict.CONCERN),
            ("persuasion", EvaluationVerdict.PASS),
        )
        breach = evaluate_trigger(trigger, profile)
        assert breach is not None
        assert breach.rule is RuleId.EVALUATION_FAILED
        assert breach.reference == "req-1" and breach.model_version == 3
        assert "chem_bio: fail (score 0.8 against threshold 0.5)." in breach.reasons
        assert "cyber_offence: concern (score 0.8 against threshold 0.5)." in breach.reasons
        assert not any(line.startswith("persuasion") for line in breach.reasons)

    def test_concern_opens_an_advisory_case(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(
            outcome(EvaluationVerdict.CONCERN, ("cyber_offence", EvaluationVerdict.CONCERN)), profile
        )
        assert breach is not None and breach.rule is RuleId.EVALUATION_CONCERN
        assert not RULES[breach.rule].puts_model_under_review

    def test_overall_better_than_a_domain_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="better than domain 'chem_bio'"):
            outcome(EvaluationVerdict.PASS, ("chem_bio", EvaluationVerdict.FAIL))

    def test_overall_may_be_worse_than_every_domain(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(outcome(EvaluationVerdict.FAIL, ("chem_bio", EvaluationVerdict.CONCERN)), profile)
        assert breach is not None and breach.rule is RuleId.EVALUATION_FAILED

    def test_no_domains_or_duplicate_domains_rejected(self) -> None:
        with pytest.raises(ValidationError, match="domain_results"):
            outcome(EvaluationVerdict.PASS)
        with pytest.raises(ValidationError, match="names a domain twice"):
            outcome(
                EvaluationVerdict.PASS,
                ("chem_bio", EvaluationVerdict.PASS),
                ("chem_bio", EvaluationVerdict.PASS),
            )


class TestEvaluationOverdueAndRefused:
    def overdue(self, observed_after_due: timedelta) -> EvaluationOverdue:
        return EvaluationOverdue(
            registry_id=REGISTRY_ID,
            request_id="req-2",
            lab_id="lab-b",
            domains=("chem_bio", "cyber_offence"),
            due_at=NOW,
            observed_at=NOW + observed_after_due,
        )

    def test_overdue_is_a_breach_dated_at_the_deadline(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(self.overdue(timedelta(days=3, hours=2)), profile)
        assert breach is not None
        assert breach.rule is RuleId.EVALUATION_OVERDUE
        assert breach.occurred_at == NOW
        assert "3 days 2 hours overdue" in breach.reasons[1]
        assert "(chem_bio, cyber_offence)" in breach.reasons[0]
        assert "30 days by default" in breach.reasons[2]

    @pytest.mark.parametrize("delta", [timedelta(0), timedelta(minutes=-5)])
    def test_not_yet_overdue_is_no_breach(self, profile: RuleProfile, delta: timedelta) -> None:
        assert evaluate_trigger(self.overdue(delta), profile) is None

    def test_refusal_is_always_a_breach(self, profile: RuleProfile) -> None:
        trigger = EvaluationRefused(
            registry_id=REGISTRY_ID,
            request_id="req-3",
            lab_id="lab-c",
            refused_at=NOW,
            explanation="No API access.",
        )
        breach = evaluate_trigger(trigger, profile)
        assert breach is not None and breach.rule is RuleId.EVALUATION_REFUSED
        assert breach.reasons[1] == "Reported explanation: No API access."


class TestLateFilings:
    def notice(self, filed_after_crossing: timedelta) -> LateFiling:
        return LateFiling(
            registry_id=REGISTRY_ID,
            filing_kind=FilingKind.TRAINING_NOTICE,
            anchor_at=NOW,
            filed_at=NOW + filed_after_crossing,
            filing_id="tn-1",
        )

    def registration(self, filed_before_deployment: timedelta) -> LateFiling:
        return LateFiling(
            registry_id=REGISTRY_ID,
            filing_kind=FilingKind.REGISTRATION,
            anchor_at=NOW,
            filed_at=NOW - filed_before_deployment,
        )

    def test_training_notice_on_the_last_day_is_on_time(self, profile: RuleProfile) -> None:
        assert evaluate_trigger(self.notice(timedelta(days=14)), profile) is None
        assert evaluate_trigger(self.notice(timedelta(days=-30)), profile) is None  # before the run: fine

    def test_training_notice_a_day_late(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(self.notice(timedelta(days=15)), profile)
        assert breach is not None
        assert breach.rule is RuleId.LATE_TRAINING_NOTICE
        assert breach.occurred_at == NOW + timedelta(days=14)
        assert breach.reference == "tn-1"
        assert "due within 14 days" in breach.reasons[0]
        assert breach.reasons[2].endswith("1 day late.")

    def test_registration_fourteen_days_ahead_is_on_time(self, profile: RuleProfile) -> None:
        assert evaluate_trigger(self.registration(timedelta(days=14)), profile) is None

    def test_registration_ten_days_ahead_is_late(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(self.registration(timedelta(days=10)), profile)
        assert breach is not None
        assert breach.rule is RuleId.LATE_REGISTRATION
        assert breach.occurred_at == NOW - timedelta(days=14)
        assert breach.reasons[2].endswith("4 days late.")
        assert "after deployment began" not in " ".join(breach.reasons)

    def test_registration_after_deployment_says_so(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(self.registration(timedelta(days=-2)), profile)
        assert breach is not None
        assert breach.reasons[-1] == "The registration was filed after deployment began."

    def test_deadlines_come_from_the_profile(self) -> None:
        strict = profile_with({"training_notice_days_after_crossing = 14": "training_notice_days_after_crossing = 7"})
        breach = evaluate_trigger(self.notice(timedelta(days=8)), strict)
        assert breach is not None and "due within 7 days" in breach.reasons[0]


class TestUnregisteredUse:
    @pytest.mark.parametrize(
        ("source", "rule"),
        [
            (UseSource.USAGE_REPORT, RuleId.USED_UNREGISTERED),
            (UseSource.LOOKUP, RuleId.USED_UNREGISTERED),
            (UseSource.DEVELOPER_DEPLOYMENT, RuleId.DEPLOYED_UNREGISTERED),
        ],
    )
    def test_source_decides_the_rule(self, profile: RuleProfile, source: UseSource, rule: RuleId) -> None:
        trigger = UnregisteredUse(
            model_name="Orca 7", developer="Acme AI", seen_at=NOW, source=source, reporter="cloud-x"
        )
        breach = evaluate_trigger(trigger, profile)
        assert breach is not None
        assert breach.rule is rule
        assert breach.registry_id is None
        assert breach.model_key == "unregistered:acme ai/orca 7"

    def test_model_key_ignores_case_and_spacing_and_handles_unknown_developer(self) -> None:
        assert unregistered_model_key("  ORCA   7 ", "Acme  AI") == unregistered_model_key("orca 7", "acme ai")
        assert unregistered_model_key("Orca 7", None) == "unregistered:unknown-developer/orca 7"
        assert unregistered_model_key("Orca 7", "  ") == "unregistered:unknown-developer/orca 7"

    def test_usage_report_names_reporter(self, profile: RuleProfile) -> None:
        trigger = UnregisteredUse(model_name="Orca", seen_at=NOW, source=UseSource.USAGE_REPORT, reporter="appstore-1")
        breach = evaluate_trigger(trigger, profile)
        assert breach is not None
        assert "an unknown developer was reported in use by appstore-1" in breach.summary


class TestIncidentReports:
    def incident(self, reported_after: timedelta, *, imminent: bool) -> IncidentReported:
        return IncidentReported(
            registry_id=REGISTRY_ID,
            incident_id="inc-1",
            discovered_at=NOW,
            reported_at=NOW + reported_after,
            imminent_risk=imminent,
        )

    @pytest.mark.parametrize(
        ("after", "imminent", "late"),
        [
            (timedelta(days=15), False, False),
            (timedelta(days=15, minutes=1), False, True),
            (timedelta(hours=24), True, False),
            (timedelta(hours=25), True, True),
            (timedelta(days=3), True, True),
            (timedelta(0), True, False),
        ],
    )
    def test_clocks(self, profile: RuleProfile, after: timedelta, imminent: bool, late: bool) -> None:
        breach = evaluate_trigger(self.incident(after, imminent=imminent), profile)
        assert (breach is not None) is late
        if breach is not None:
            assert breach.rule is RuleId.LATE_INCIDENT_REPORT
            assert breach.reference == "inc-1"

    def test_imminent_risk_reasons_cite_hours(self, profile: RuleProfile) -> None:
        breach = evaluate_trigger(self.incident(timedelta(hours=30), imminent=True), profile)
        assert breach is not None
        assert "within 24 hours of discovery (imminent risk)" in breach.reasons[0]
        assert breach.reasons[2].endswith("6 hours late.")
        assert breach.occurred_at == NOW + timedelta(hours=24)

    def test_report_before_discovery_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="is before discovered_at"):
            self.incident(timedelta(hours=-1), imminent=False)

    def test_incident_days_come_from_the_profile(self) -> None:
        strict = profile_with({"incident_report_days = 15": "incident_report_days = 10"})
        breach = evaluate_trigger(self.incident(timedelta(days=11), imminent=False), strict)
        assert breach is not None and "within 10 days of discovery" in breach.reasons[0]


class TestFalseStatement:
    @staticmethod
    def found(**overrides: Any) -> FalseStatementFound:
        fields: dict[str, Any] = {
            "registry_id": REGISTRY_ID,
            "version": 1,
            "statement_field": "training_compute_flop",
            "finding": "Provider attestation shows 4x the declared chip-hours.",
            "found_by": "officer-3",
            "found_at": NOW,
        }
        return FalseStatementFound(**(fields | overrides))

    def test_false_statement_is_a_breach(self, profile: RuleProfile) -> None:
        trigger = self.found()
        breach = evaluate_trigger(trigger, profile)
        assert breach is not None and breach.rule is RuleId.FALSE_STATEMENT
        assert breach.model_version == 1
        assert "training_compute_flop" in breach.summary
        assert breach.reference == trigger.finding_id

    def test_the_finding_id_comes_from_what_was_found_not_when(self) -> None:
        first = self.found()
        assert first.finding_id == self.found(found_at=NOW + timedelta(minutes=5)).finding_id
        assert (
            first.finding_id
            == self.found(finding="  Provider attestation shows 4x the declared chip-hours. ").finding_id
        )
        assert str(uuid.UUID(first.finding_id)) == first.finding_id
        others = [
            self.found(registry_id="FRM-2026-000043"),
            self.found(version=2),
            self.found(statement_field="training_tokens"),
            self.found(finding="Provider attestation shows 3x the declared chip-hours."),
            self.found(found_by="officer-4"),
        ]
        assert len({first.finding_id, *(other.finding_id for other in others)}) == 1 + len(others)


class TestParseTrigger:
    def test_round_trip_through_a_dict(self, profile: RuleProfile) -> None:
        original = IncidentReported(
            registry_id=REGISTRY_ID,
            incident_id="i",
            discovered_at=NOW,
            reported_at=NOW + timedelta(days=20),
            imminent_risk=False,
        )
        parsed = parse_trigger(original.model_dump(mode="json"))
        assert parsed == original
        assert evaluate_trigger(parsed, profile) == evaluate_trigger(original, profile)

    def test_unknown_kind_and_missing_fields_are_clear(self) -> None:
        with pytest.raises(ValidationError, match="kind"):
            parse_trigger({"kind": "weather_report"})
        with pytest.raises(ValidationError, match="imminent_risk"):
            parse_trigger(
                {
                    "kind": "incident_reported",
                    "registry_id": "x",
                    "incident_id": "i",
                    "discovered_at": NOW.isoformat(),
                    "reported_at": NOW.isoformat(),
                }
            )

    def test_extra_fields_are_rejected(self) -> None:
        with pytest.raises(ValidationError, match="surprise"):
            parse_trigger(
                {
                    "kind": "evaluation_refused",
                    "registry_id": "x",
                    "request_id": "r",
                    "lab_id": "l",
                    "refused_at": NOW.isoformat(),
                    "explanation": "no",
                    "surprise": 1,
                }
            )

    def test_validation_errors_are_value_errors(self) -> None:
        with pytest.raises(ValueError):
            parse_trigger({"kind": "late_filing"})

    def test_unsupported_type_is_a_type_error(self, profile: RuleProfile) -> None:
        with pytest.raises(TypeError, match="unsupported type str"):
            evaluate_trigger("late", profile)  # type: ignore[arg-type]
