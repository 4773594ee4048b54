"""Filing events as intake publishes them, for verification's component and integration tests.

The attestation figures are chosen so the arithmetic is easy to check: 1e7 H100 chip-hours at 0.4
utilisation is 1e7 x 3600 s x 989.4e12 FLOP/s (the catalogue's dense BF16 peak) x 0.4 = 1.42e25 FLOP.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from registry_contracts import ComputeInputs, Developer, RegistrationSubmitted
from registry_contracts.events.intake import (
    AmendmentKind,
    AmendmentSubmitted,
    ComputeAttested,
    ModelDesignationChanged,
    TrainingNoticeFiled,
)

NOW = datetime(2026, 5, 1, tzinfo=UTC)
PROFILE = "baseline-2026-01"
TRAINING_START, TRAINING_END = date(2026, 1, 1), date(2026, 3, 1)
ATTESTED_FLOP = 1e7 * 3600 * 989.4e12 * 0.4


def fresh_id(prefix: str = "TEST") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def developer() -> Developer:
    suffix = uuid.uuid4().hex[:8]
    return Developer(organisation_id=f"org-{suffix}", legal_name=f"Verify {suffix} Ltd", country="GB")


def registration(
    dev: Developer, *, registry_id: str | None = None, declared: float = ATTESTED_FLOP, **compute: Any
) -> RegistrationSubmitted:
    """A version-1 registration; by default a run in Jan-Feb 2026 on cluster `c-1` with no other inputs."""
    inputs: dict[str, Any] = {"training_start": TRAINING_START, "training_end": TRAINING_END, "cluster_id": "c-1"}
    inputs.update(compute)
    return RegistrationSubmitted(
        registry_id=registry_id or fresh_id(),
        version=1,
        developer=dev,
        model_name=f"model-{uuid.uuid4().hex[:6]}",
        compute=ComputeInputs(declared_training_flop=declared, **inputs),
        submitted_at=NOW,
        rule_profile_id=PROFILE,
    )


def amendment(
    base: RegistrationSubmitted, *, version: int = 2, own: float | None = 1e24, cumulative: float | None = None
) -> AmendmentSubmitted:
    """A fine-tune of `base` (own compute `own`, none when None); cumulative defaults to base + own."""
    base_flop = base.compute.declared_training_flop
    return AmendmentSubmitted(
        registry_id=base.registry_id,
        version=version,
        base_version=version - 1,
        developer=base.developer,
        model_name=base.model_name,
        kind=AmendmentKind.FINE_TUNE if own else AmendmentKind.DEPLOYMENT_MODE,
        description="instruction tuning",
        modification_compute=ComputeInputs(declared_training_flop=own) if own else None,
        cumulative_training_flop=cumulative or base_flop + (own or 0.0),
        submitted_at=NOW,
        rule_profile_id=PROFILE,
    )


def attestation(dev: Developer, *, chip_type: str = "NVIDIA H100 SXM5 80GB", **overrides: Any) -> ComputeAttested:
    """A provider's attestation of 1e7 chip-hours at 0.4 utilisation in the default training period."""
    fields: dict[str, Any] = {
        "attestation_id": fresh_id("ATT"),
        "provider_id": "cloud-1",
        "provider_name": "Cloud One",
        "customer": dev,
        "chip_type": chip_type,
        "chip_hours": 1e7,
        "period_start": TRAINING_START,
        "period_end": TRAINING_END,
        "cluster_id": "c-1",
        "utilisation": 0.4,
        "attested_at": NOW,
    }
    fields.update(overrides)
    return ComputeAttested(**fields)


def training_notice(dev: Developer, registry_id: str, *, planned: float) -> TrainingNoticeFiled:
    return TrainingNoticeFiled(
        registry_id=registry_id,
        notice_id=fresh_id("TN"),
        developer=dev,
        model_family="family",
        planned_training_flop=planned,
        planned_start=TRAINING_START,
        planned_end=TRAINING_END,
        filed_at=NOW,
        rule_profile_id=PROFILE,
    )


def designation(
    registry_id: str, *, designated: bool = True, days_after: int = 1, reason: str = "systemic reach"
) -> ModelDesignationChanged:
    """The regulator's decision about a model, `days_after` days after NOW (later decisions: more days)."""
    return ModelDesignationChanged(
        registry_id=registry_id,
        designation_id=fresh_id("DES"),
        designated=designated,
        reason=reason,
        decided_by="officer-1",
        decided_at=NOW + timedelta(days=days_after),
        rule_profile_id=PROFILE,
    )
