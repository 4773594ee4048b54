"""The one-third rule: a modification using more than the profile's fraction of its base's compute is a new model.

Intake keeps its own copy of this small rule (services never import each other's code); it reads the same
profile field as verification, `thresholds.new_model_modification_fraction`.
"""

from __future__ import annotations

from enum import StrEnum

from services.plumbing.rule_profile import RuleProfile


class ModificationOutcome(StrEnum):
    AMENDMENT = "amendment"  # a new version of the base model's record
    NEW_MODEL = "new_model"  # a new registration with lineage to the base


def classify_modification(
    *, modification_flop: float | None, base_flop: float, profile: RuleProfile
) -> ModificationOutcome:
    """New model when the modification's compute exceeds the fraction of the base's; otherwise an amendment."""
    if not modification_flop:
        return ModificationOutcome.AMENDMENT
    fraction = profile.thresholds.new_model_modification_fraction
    return ModificationOutcome.NEW_MODEL if modification_flop > fraction * base_flop else ModificationOutcome.AMENDMENT
