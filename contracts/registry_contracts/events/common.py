"""Value types shared by several events."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Tier(StrEnum):
    """Regulatory tier a model's training compute places it in."""

    BELOW = "below"
    NEAR_THRESHOLD = "near_threshold"
    REPORTABLE = "reportable"
    FRONTIER = "frontier"


class Developer(BaseModel):
    """The registrant organisation (public fields only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    organisation_id: str = Field(min_length=1, description="Stable id of the registrant organisation.")
    legal_name: str = Field(min_length=1)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 country code.")


class ComputeInputs(BaseModel):
    """What a developer declares about a training run: the inputs of the compute estimates.

    Confidential fields: this travels only on internal topics, never to labs or the public.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    declared_training_flop: float = Field(gt=0, description="Total training compute, FLOP.")
    parameters: float | None = Field(default=None, gt=0, description="Total parameters.")
    active_parameters: float | None = Field(
        default=None, gt=0, description="Parameters active per token (mixture-of-experts)."
    )
    is_mixture_of_experts: bool = False
    training_tokens: float | None = Field(default=None, gt=0, description="Unique training tokens.")
    epochs: float | None = Field(default=None, gt=0)
    chip_type: str | None = None
    chip_count: int | None = Field(default=None, gt=0)
    training_hours: float | None = Field(default=None, gt=0, description="Wall-clock hours.")
    declared_utilisation: float | None = Field(default=None, gt=0, le=1)
    number_format: str | None = Field(default=None, description="e.g. BF16, FP8")
    training_start: date | None = None
    training_end: date | None = None
    cluster_id: str | None = None
    trained_mainly_on_biological_sequences: bool = False
