"""Maximum penalties under each regime profile, with the arithmetic spelled out for the officer.

The figures (fractions, caps, per-violation and per-day amounts, cure period) come from
`profile.penalties`; these functions only apply them. Amounts are Decimals, never floats.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from services.enforcement.domain._base import FrozenModel, NonBlank
from services.enforcement.domain.errors import EnforcementInputError
from services.plumbing.rule_profile import RuleProfile

_CENT = Decimal("0.01")


class PenaltyRegime(StrEnum):
    """The penalty regimes a profile defines."""

    EU_GPAI = "eu_gpai"
    SB53 = "sb53"
    RAISE = "raise"
    PER_DAY = "per_day"

    @property
    def description(self) -> str:
        """The regime and how its maximum is set."""
        return _REGIME_DESCRIPTIONS[self]


_REGIME_DESCRIPTIONS = {
    PenaltyRegime.EU_GPAI: "EU AI Act, general-purpose AI: the greater of a share of turnover and a floor.",
    PenaltyRegime.SB53: "California SB 53: up to a fixed amount per violation.",
    PenaltyRegime.RAISE: "New York RAISE Act: a fixed amount for a first violation, more for later ones.",
    PenaltyRegime.PER_DAY: "ClinicalTrials.gov style: a daily amount after a cure period.",
}


class PenaltyAssessment(FrozenModel):
    """The maximum penalty a regime allows for a case, and why."""

    regime: PenaltyRegime
    maximum_amount: Decimal = Field(ge=0)
    currency: NonBlank
    reasoning: tuple[str, ...]
    profile_id: NonBlank


def format_money(amount: Decimal, currency: str) -> str:
    """Readable amount: '$1M', 'EUR 2.1bn', '$11,000'; the exact figure follows when rounding hides it."""
    prefix = "$" if currency == "USD" else f"{currency} "
    exact = f"{prefix}{_plain(amount)}"
    for scale, suffix in ((Decimal(10) ** 12, "tn"), (Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M")):
        if abs(amount) >= scale:
            short = (amount / scale).quantize(_CENT)
            text = f"{prefix}{_strip_zeros(short)}{suffix}"
            return text if short * scale == amount else f"{text} ({exact})"
    return exact


def assess_eu_gpai_penalty(profile: RuleProfile, *, worldwide_turnover_eur: Decimal | int | float) -> PenaltyAssessment:
    """EU GPAI maximum: the greater of a fraction of worldwide annual turnover and a fixed floor (EUR)."""
    rules = profile.penalties.eu_gpai
    turnover = _non_negative_amount("worldwide_turnover_eur", worldwide_turnover_eur)
    fraction = Decimal(str(rules.turnover_fraction))
    floor = _profile_amount(rules.floor_cap_eur)
    share = (turnover * fraction).quantize(_CENT)
    percent = f"{_strip_zeros(fraction * 100)}%"
    share_line = f"{percent} of {format_money(turnover, 'EUR')} turnover = {format_money(share, 'EUR')}"
    if share > floor:
        cap = share
        verdict = f"{share_line} exceeds the {format_money(floor, 'EUR')} floor, "
        verdict += f"so the cap is {format_money(cap, 'EUR')}"
    else:
        cap = floor
        verdict = (
            f"{share_line} does not exceed the {format_money(floor, 'EUR')} floor, "
            f"so the cap is {format_money(cap, 'EUR')}"
        )
    return PenaltyAssessment(
        regime=PenaltyRegime.EU_GPAI,
        maximum_amount=cap,
        currency="EUR",
        reasoning=(
            f"Profile {profile.id}, EU AI Act (general-purpose AI): the maximum is the greater of "
            f"{percent} of worldwide annual turnover and {format_money(floor, 'EUR')}.",
            verdict,
        ),
        profile_id=profile.id,
    )


def assess_sb53_penalty(profile: RuleProfile, *, violations: int) -> PenaltyAssessment:
    """California SB 53 maximum: a fixed amount per violation (USD)."""
    count = _positive_count("violations", violations)
    per_violation = _profile_amount(profile.penalties.sb53.per_violation_usd)
    cap = per_violation * count
    return PenaltyAssessment(
        regime=PenaltyRegime.SB53,
        maximum_amount=cap,
        currency="USD",
        reasoning=(
            f"Profile {profile.id}, California SB 53: up to {format_money(per_violation, 'USD')} per violation.",
            f"{_violations(count)} x {format_money(per_violation, 'USD')} = {format_money(cap, 'USD')}, "
            f"so the cap is {format_money(cap, 'USD')}",
        ),
        profile_id=profile.id,
    )


def assess_raise_penalty(profile: RuleProfile, *, violations: int, prior_violations: int) -> PenaltyAssessment:
    """New York RAISE maximum (USD): the developer's first violation ever costs less than later ones.

    `prior_violations` counts violations already established against the same developer.
    """
    count = _positive_count("violations", violations)
    if isinstance(prior_violations, bool) or not isinstance(prior_violations, int) or prior_violations < 0:
        raise EnforcementInputError("prior_violations", f"must be a whole number >= 0, got {prior_violations!r}")
    rules = profile.penalties.raise_
    first_amount = _profile_amount(rules.first_violation_usd)
    later_amount = _profile_amount(rules.subsequent_violation_usd)
    firsts = 1 if prior_violations == 0 else 0
    laters = count - firsts
    cap = first_amount * firsts + later_amount * laters
    lines = [
        f"Profile {profile.id}, New York RAISE Act: up to {format_money(first_amount, 'USD')} for a first "
        f"violation and {format_money(later_amount, 'USD')} for each subsequent violation.",
    ]
    if firsts:
        lines.append(
            f"No earlier violations, so the first of these is a first violation: {format_money(first_amount, 'USD')}."
        )
    else:
        lines.append(f"{_violations(prior_violations)} already established, so none of these is a first violation.")
    if laters:
        lines.append(
            f"{laters} subsequent violation{'s' if laters != 1 else ''} x "
            f"{format_money(later_amount, 'USD')} = "
            f"{format_money(later_amount * laters, 'USD')}."
        )
    lines.append(f"The cap is {format_money(cap, 'USD')}")
    return PenaltyAssessment(
        regime=PenaltyRegime.RAISE,
        maximum_amount=cap,
        currency="USD",
        reasoning=tuple(lines),
        profile_id=profile.id,
    )


def assess_per_day_penalty(
    profile: RuleProfile, *, notice_served_on: date, assessed_through: date
) -> PenaltyAssessment:
    """Per-day maximum (USD): each day of non-compliance after the cure period that follows the notice.

    `assessed_through` is the day compliance was achieved, or the assessment day if still non-compliant;
    it counts as a day of non-compliance.
    """
    served = _plain_date("notice_served_on", notice_served_on)
    through = _plain_date("assessed_through", assessed_through)
    if through < served:
        raise EnforcementInputError(
            "assessed_through", f"{through.isoformat()} is before notice_served_on {served.isoformat()}"
        )
    rules = profile.penalties.per_day
    per_day = _profile_amount(rules.per_day_usd)
    cure_ends_on = served + timedelta(days=rules.cure_period_days)
    penalty_days = max(0, (through - cure_ends_on).days)
    cap = per_day * penalty_days
    lines = [
        f"Profile {profile.id}, per-day penalties: {format_money(per_day, 'USD')} a day after a "
        f"{rules.cure_period_days}-day cure period.",
        f"Notice served {served.isoformat()}; the cure period ended {cure_ends_on.isoformat()}.",
    ]
    if penalty_days:
        lines.append(
            f"{penalty_days} day{'s' if penalty_days != 1 else ''} of non-compliance from "
            f"{(cure_ends_on + timedelta(days=1)).isoformat()} through {through.isoformat()} x "
            f"{format_money(per_day, 'USD')} = {format_money(cap, 'USD')}, "
            f"so the cap is {format_money(cap, 'USD')}"
        )
    else:
        lines.append(f"{through.isoformat()} is within the cure period, so no per-day penalty has accrued")
    return PenaltyAssessment(
        regime=PenaltyRegime.PER_DAY,
        maximum_amount=cap,
        currency="USD",
        reasoning=tuple(lines),
        profile_id=profile.id,
    )


def _non_negative_amount(field: str, value: Decimal | int | float) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise EnforcementInputError(field, f"must be a number, got {type(value).__name__}")
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite():
        raise EnforcementInputError(field, f"must be a finite amount, got {value!r}")
    if amount < 0:
        raise EnforcementInputError(field, f"must not be negative, got {value!r}")
    return amount


def _profile_amount(value: float) -> Decimal:
    # str() keeps the decimal the profile author wrote (0.03, not 0.0299999...)
    return Decimal(str(value)).quantize(_CENT)


def _positive_count(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EnforcementInputError(field, f"must be a whole number >= 1, got {value!r}")
    return value


def _plain_date(field: str, value: date) -> date:
    # datetime is a date subclass; a time of day would silently shift the day count
    if isinstance(value, datetime) or not isinstance(value, date):
        raise EnforcementInputError(field, f"must be a date (no time of day), got {type(value).__name__}")
    return value


def _violations(count: int) -> str:
    return f"{count} violation{'s' if count != 1 else ''}"


def _strip_zeros(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(amount: Decimal) -> str:
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.quantize(_CENT):,.2f}"
