"""Penalty maxima under each regime profile, with worked numbers and readable reasoning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.enforcement.domain import (
    EnforcementInputError,
    PenaltyRegime,
    assess_eu_gpai_penalty,
    assess_per_day_penalty,
    assess_raise_penalty,
    assess_sb53_penalty,
    format_money,
)
from services.plumbing.rule_profile import RuleProfile

from ._factories import profile_with

pytestmark = pytest.mark.unit


class TestEuGpai:
    def test_large_turnover_sets_the_cap(self, profile: RuleProfile) -> None:
        result = assess_eu_gpai_penalty(profile, worldwide_turnover_eur=Decimal("2100000000"))
        assert result.regime is PenaltyRegime.EU_GPAI
        assert result.maximum_amount == Decimal("63000000")
        assert result.currency == "EUR"
        assert result.reasoning[-1] == (
            "3% of EUR 2.1bn turnover = EUR 63M exceeds the EUR 15M floor, so the cap is EUR 63M"
        )
        assert result.profile_id == "baseline-2026-01"

    def test_small_turnover_falls_back_to_the_floor(self, profile: RuleProfile) -> None:
        result = assess_eu_gpai_penalty(profile, worldwide_turnover_eur=100_000_000)
        assert result.maximum_amount == Decimal("15000000")
        assert result.reasoning[-1] == (
            "3% of EUR 100M turnover = EUR 3M does not exceed the EUR 15M floor, so the cap is EUR 15M"
        )

    def test_exactly_at_the_floor_and_zero_turnover(self, profile: RuleProfile) -> None:
        assert assess_eu_gpai_penalty(profile, worldwide_turnover_eur=500_000_000).maximum_amount == 15_000_000
        assert assess_eu_gpai_penalty(profile, worldwide_turnover_eur=0).maximum_amount == 15_000_000

    def test_absurd_turnover_stays_exact(self, profile: RuleProfile) -> None:
        result = assess_eu_gpai_penalty(profile, worldwide_turnover_eur=Decimal("1e20"))
        assert result.maximum_amount == Decimal("3e18")
        assert "EUR 3000000tn" in result.reasoning[-1]

    def test_uneven_amounts_show_the_exact_figure(self, profile: RuleProfile) -> None:
        result = assess_eu_gpai_penalty(profile, worldwide_turnover_eur=Decimal("987654321.99"))
        assert result.maximum_amount == Decimal("29629629.66")
        assert "= EUR 29.63M (EUR 29,629,629.66) exceeds" in result.reasoning[-1]

    def test_float_turnover_is_taken_as_written(self, profile: RuleProfile) -> None:
        assert assess_eu_gpai_penalty(profile, worldwide_turnover_eur=2.1e9).maximum_amount == 63_000_000

    @pytest.mark.parametrize(
        "turnover", [-1, Decimal("-0.01"), float("nan"), float("inf"), Decimal("NaN"), "2e9", True]
    )
    def test_bad_turnover(self, profile: RuleProfile, turnover: Any) -> None:
        with pytest.raises(EnforcementInputError, match="worldwide_turnover_eur"):
            assess_eu_gpai_penalty(profile, worldwide_turnover_eur=turnover)

    def test_numbers_come_from_the_profile(self) -> None:
        other = profile_with(
            {
                "turnover_fraction = 0.03": "turnover_fraction = 0.07",
                "floor_cap_eur = 15_000_000": "floor_cap_eur = 35_000_000",
            }
        )
        result = assess_eu_gpai_penalty(other, worldwide_turnover_eur=1_000_000_000)
        assert result.maximum_amount == 70_000_000
        assert result.reasoning[-1] == (
            "7% of EUR 1bn turnover = EUR 70M exceeds the EUR 35M floor, so the cap is EUR 70M"
        )


class TestSb53:
    @pytest.mark.parametrize(("violations", "cap"), [(1, 1_000_000), (3, 3_000_000), (1000, 1_000_000_000)])
    def test_per_violation(self, profile: RuleProfile, violations: int, cap: int) -> None:
        result = assess_sb53_penalty(profile, violations=violations)
        assert result.maximum_amount == cap
        assert result.currency == "USD"

    def test_reasoning(self, profile: RuleProfile) -> None:
        assert assess_sb53_penalty(profile, violations=3).reasoning[-1] == "3 violations x $1M = $3M, so the cap is $3M"

    @pytest.mark.parametrize("violations", [0, -1, 1.5, True, None])
    def test_bad_counts(self, profile: RuleProfile, violations: Any) -> None:
        with pytest.raises(EnforcementInputError, match="violations: must be a whole number >= 1"):
            assess_sb53_penalty(profile, violations=violations)


class TestRaise:
    @pytest.mark.parametrize(
        ("violations", "prior", "cap"),
        [(1, 0, 1_000_000), (2, 0, 4_000_000), (3, 0, 7_000_000), (1, 1, 3_000_000), (2, 5, 6_000_000)],
    )
    def test_first_then_subsequent(self, profile: RuleProfile, violations: int, prior: int, cap: int) -> None:
        assert assess_raise_penalty(profile, violations=violations, prior_violations=prior).maximum_amount == cap

    def test_reasoning_explains_the_split(self, profile: RuleProfile) -> None:
        result = assess_raise_penalty(profile, violations=3, prior_violations=0)
        assert result.reasoning[1:] == (
            "No earlier violations, so the first of these is a first violation: $1M.",
            "2 subsequent violations x $3M = $6M.",
            "The cap is $7M",
        )
        later = assess_raise_penalty(profile, violations=1, prior_violations=2)
        assert later.reasoning[1] == "2 violations already established, so none of these is a first violation."

    def test_bad_counts(self, profile: RuleProfile) -> None:
        with pytest.raises(EnforcementInputError, match="violations"):
            assess_raise_penalty(profile, violations=0, prior_violations=0)
        with pytest.raises(EnforcementInputError, match="prior_violations: must be a whole number >= 0"):
            assess_raise_penalty(profile, violations=1, prior_violations=-1)


class TestPerDay:
    def test_days_after_the_cure_period(self, profile: RuleProfile) -> None:
        result = assess_per_day_penalty(profile, notice_served_on=date(2026, 1, 1), assessed_through=date(2026, 2, 10))
        assert result.regime is PenaltyRegime.PER_DAY
        assert result.maximum_amount == Decimal(110_000)
        assert result.reasoning[1] == "Notice served 2026-01-01; the cure period ended 2026-01-31."
        assert result.reasoning[2] == (
            "10 days of non-compliance from 2026-02-01 through 2026-02-10 x $11,000 = $110,000, so the cap is $110,000"
        )

    @pytest.mark.parametrize(
        ("through", "days"),
        [(date(2026, 1, 1), 0), (date(2026, 1, 31), 0), (date(2026, 2, 1), 1), (date(2027, 1, 31), 365)],
    )
    def test_boundaries(self, profile: RuleProfile, through: date, days: int) -> None:
        result = assess_per_day_penalty(profile, notice_served_on=date(2026, 1, 1), assessed_through=through)
        assert result.maximum_amount == 11_000 * days

    def test_within_cure_period_says_so(self, profile: RuleProfile) -> None:
        result = assess_per_day_penalty(profile, notice_served_on=date(2026, 1, 1), assessed_through=date(2026, 1, 20))
        assert result.reasoning[-1] == "2026-01-20 is within the cure period, so no per-day penalty has accrued"

    def test_zero_cure_period_from_the_profile(self) -> None:
        other = profile_with({"cure_period_days = 30": "cure_period_days = 0"})
        result = assess_per_day_penalty(other, notice_served_on=date(2026, 1, 1), assessed_through=date(2026, 1, 3))
        assert result.maximum_amount == 22_000

    def test_reversed_dates_and_datetimes_rejected(self, profile: RuleProfile) -> None:
        with pytest.raises(EnforcementInputError, match="assessed_through: 2025-12-31 is before notice_served_on"):
            assess_per_day_penalty(profile, notice_served_on=date(2026, 1, 1), assessed_through=date(2025, 12, 31))
        with pytest.raises(EnforcementInputError, match="notice_served_on: must be a date"):
            assess_per_day_penalty(
                profile, notice_served_on=datetime(2026, 1, 1, tzinfo=UTC), assessed_through=date(2026, 2, 1)
            )


class TestFormatMoney:
    @pytest.mark.parametrize(
        ("amount", "currency", "text"),
        [
            (Decimal(1_000_000), "USD", "$1M"),
            (Decimal(2_100_000_000), "EUR", "EUR 2.1bn"),
            (Decimal(11_000), "USD", "$11,000"),
            (Decimal("1234.5"), "GBP", "GBP 1,234.50"),
            (Decimal(0), "USD", "$0"),
            (Decimal(1_500_001), "USD", "$1.5M ($1,500,001)"),
        ],
    )
    def test_format(self, amount: Decimal, currency: str, text: str) -> None:
        assert format_money(amount, currency) == text
