"""Rule profiles: every threshold, deadline and penalty the registry applies, as dated, versioned data.

A regime change is a new profile file, never an edit to a handler. Services load the profile named by
RULE_PROFILE (a built-in id or a path to a TOML file) and carry its id on every decision they publish.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

BUILTIN_DIR = Path(__file__).parent / "rule_profiles"
DEFAULT_PROFILE_ID = "baseline-2026-01"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Frozen):
    reportable_flop: PositiveFloat
    frontier_flop: PositiveFloat
    biological_sequence_flop: PositiveFloat
    near_threshold_factor: float = Field(gt=1.0)
    new_model_modification_fraction: float = Field(gt=0.0, lt=1.0)


class VerificationRules(_Frozen):
    tolerance_factor: float = Field(gt=1.0)
    tolerance_factor_undisclosed: float = Field(gt=1.0)
    utilisation_typical_low: float = Field(gt=0.0, le=1.0)
    utilisation_typical_high: float = Field(gt=0.0, le=1.0)
    utilisation_plausible_low: float = Field(gt=0.0, le=1.0)
    utilisation_plausible_high: float = Field(gt=0.0, le=1.0)
    architecture_flop_per_param_token: PositiveFloat


class Deadlines(_Frozen):
    training_notice_days_after_crossing: PositiveInt
    registration_days_before_deployment: PositiveInt
    incident_report_days: PositiveInt
    incident_imminent_risk_hours: PositiveInt
    evaluation_default_days: PositiveInt
    developer_response_days: PositiveInt
    evaluation_periodic_days: PositiveInt
    appeal_window_days: PositiveInt


class EvaluationRequirements(_Frozen):
    frontier: tuple[str, ...]
    reportable: tuple[str, ...]
    near_threshold: tuple[str, ...] = ()
    below: tuple[str, ...] = ()

    def domains_for(self, tier: str) -> tuple[str, ...]:
        return tuple(getattr(self, tier, ()))


class EuGpaiPenalty(_Frozen):
    turnover_fraction: float = Field(gt=0.0, lt=1.0)
    floor_cap_eur: PositiveFloat


class Sb53Penalty(_Frozen):
    per_violation_usd: PositiveFloat


class RaisePenalty(_Frozen):
    first_violation_usd: PositiveFloat
    subsequent_violation_usd: PositiveFloat


class PerDayPenalty(_Frozen):
    per_day_usd: PositiveFloat
    cure_period_days: int = Field(ge=0)


class Penalties(_Frozen):
    eu_gpai: EuGpaiPenalty
    sb53: Sb53Penalty
    raise_: RaisePenalty = Field(alias="raise")
    per_day: PerDayPenalty


class RuleProfile(_Frozen):
    id: str
    version: PositiveInt
    effective_from: date
    description: str
    thresholds: Thresholds
    verification: VerificationRules
    deadlines: Deadlines
    evaluations: EvaluationRequirements
    penalties: Penalties


def parse_rule_profile(text: str) -> RuleProfile:
    """Parse and validate a profile's TOML text; a bad profile fails loudly at start-up."""
    return RuleProfile.model_validate(tomllib.loads(text))


@lru_cache(maxsize=8)
def load_rule_profile(name_or_path: str = DEFAULT_PROFILE_ID) -> RuleProfile:
    """Load a built-in profile by id, or any profile file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = BUILTIN_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))
        raise ValueError(f"rule profile {name_or_path!r} not found; built-in profiles: {known}")
    return parse_rule_profile(path.read_text(encoding="utf-8"))
