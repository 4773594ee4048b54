"""Architecture and hardware estimators, and declaration validation."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import (
    ChipCatalogue,
    ComputeDeclaration,
    EstimateMethod,
    VerificationInputError,
    estimate_from_architecture,
    estimate_from_hardware,
)

pytestmark = pytest.mark.unit


def declaration(**overrides: Any) -> ComputeDeclaration:
    fields: dict[str, Any] = {"developer": "Acme AI", "model_name": "acme-1", "declared_training_flop": 1e24}
    fields.update(overrides)
    return ComputeDeclaration(**fields)


def test_architecture_is_six_n_d(profile: RuleProfile) -> None:
    est = estimate_from_architecture(declaration(parameters=7e10, training_tokens=1.4e13), rules=profile.verification)
    assert est.method is EstimateMethod.ARCHITECTURE
    assert est.value_flop == pytest.approx(6 * 7e10 * 1.4e13)
    assert est.comparison_flop == est.value_flop and est.uncertainty_factor == 1.0
    assert est.inputs["tokens_seen"] == 1.4e13
    assert "epochs not declared: assumed 1" in " ".join(est.reasons)
    assert est.reasons[0] == "6 x 7e10 params x 1.4e13 tokens = 5.9e24 FLOP"


def test_architecture_multiplies_epochs(profile: RuleProfile) -> None:
    est = estimate_from_architecture(
        declaration(parameters=1e9, training_tokens=1e11, epochs=4), rules=profile.verification
    )
    assert est.value_flop == pytest.approx(6 * 1e9 * 4e11)
    assert not any("assumed" in r for r in est.reasons)


def test_mixture_of_experts_uses_active_parameters(profile: RuleProfile) -> None:
    est = estimate_from_architecture(
        declaration(parameters=6.71e11, active_parameters=3.7e10, is_mixture_of_experts=True, training_tokens=1.48e13),
        rules=profile.verification,
    )
    assert est.value_flop == pytest.approx(6 * 3.7e10 * 1.48e13)
    assert "active parameters" in est.reasons[1]


def test_mixture_of_experts_without_active_parameters_gives_no_estimate(profile: RuleProfile) -> None:
    est = estimate_from_architecture(
        declaration(parameters=6.71e11, is_mixture_of_experts=True, training_tokens=1.48e13),
        rules=profile.verification,
    )
    assert not est.available and "without declared active parameters" in est.reasons[0]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"training_tokens": 1e12}, "parameters not declared"),
        ({"parameters": 1e9}, "training tokens not declared"),
    ],
)
def test_architecture_missing_inputs(profile: RuleProfile, fields: dict[str, float], reason: str) -> None:
    est = estimate_from_architecture(declaration(**fields), rules=profile.verification)
    assert est.value_flop is None and est.reasons == (reason,)


def test_hardware_band_when_utilisation_not_declared(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_hardware(
        declaration(chip_type="H100 SXM", chip_count=1000, training_hours=100),
        rules=profile.verification,
        catalogue=catalogue,
    )
    raw = 1000 * 989.4e12 * 100 * 3600
    assert est.low_flop == pytest.approx(raw * 0.30)
    assert est.high_flop == pytest.approx(raw * 0.45)
    assert est.value_flop == pytest.approx(raw * 0.375)
    assert est.comparison_flop == est.low_flop
    assert est.uncertainty_factor == pytest.approx(1.5)
    assert est.disclosed and not est.implausible
    assert "typical band 0.3-0.45" in " ".join(est.reasons)


def test_hardware_declared_utilisation_and_format(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_hardware(
        declaration(chip_type="H100", chip_count=10, training_hours=10, declared_utilisation=0.4, number_format="FP8"),
        rules=profile.verification,
        catalogue=catalogue,
    )
    assert est.value_flop == pytest.approx(10 * 1979e12 * 10 * 3600 * 0.4)
    assert est.inputs["number_format"] == "fp8"


@pytest.mark.parametrize(("utilisation", "compared_at"), [(0.05, 0.15), (0.9, 0.6)])
def test_implausible_utilisation_is_flagged_but_computed(
    profile: RuleProfile, catalogue: ChipCatalogue, utilisation: float, compared_at: float
) -> None:
    est = estimate_from_hardware(
        declaration(chip_type="A100", chip_count=100, training_hours=10, declared_utilisation=utilisation),
        rules=profile.verification,
        catalogue=catalogue,
    )
    raw = 100 * 312e12 * 10 * 3600
    assert est.implausible
    assert est.value_flop == pytest.approx(raw * utilisation)
    assert est.comparison_flop == pytest.approx(raw * compared_at)
    assert "implausible" in est.reasons[1]


def test_unknown_chip_is_insufficient_evidence_not_crash(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_hardware(
        declaration(chip_type="Acme X1", chip_count=100, training_hours=10),
        rules=profile.verification,
        catalogue=catalogue,
    )
    assert not est.available
    assert est.reasons[0].startswith("unknown chip 'Acme X1'")


def test_hardware_missing_inputs_are_named(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_hardware(declaration(chip_type="A100"), rules=profile.verification, catalogue=catalogue)
    assert est.reasons == ("not declared: chip_count, training_hours (or training_start/training_end)",)


def test_duration_from_dates_is_undisclosed(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    est = estimate_from_hardware(
        declaration(chip_type="A100", chip_count=100, training_start=date(2026, 1, 1), training_end=date(2026, 1, 11)),
        rules=profile.verification,
        catalogue=catalogue,
    )
    assert est.inputs["training_hours"] == 240 and not est.disclosed
    assert "upper bound" in " ".join(est.reasons)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"declared_training_flop": 0}, "declared_training_flop"),
        ({"declared_training_flop": -1e24}, "declared_training_flop"),
        ({"declared_training_flop": math.nan}, "declared_training_flop"),
        ({"declared_training_flop": math.inf}, "declared_training_flop"),
        ({"declared_training_flop": 1e33}, "declared_training_flop"),
        ({"declared_training_flop": None}, "declared_training_flop"),
        ({"parameters": 2e15}, "parameters"),
        ({"parameters": 0}, "parameters"),
        ({"training_tokens": 2e16}, "training_tokens"),
        ({"epochs": -1}, "epochs"),
        ({"chip_count": 20_000_000}, "chip_count"),
        ({"chip_count": 1.5}, "chip_count"),
        ({"training_hours": 200_000}, "training_hours"),
        ({"declared_utilisation": 1.5}, "declared_utilisation"),
        ({"declared_utilisation": 0}, "declared_utilisation"),
        ({"parameters": 1e9, "active_parameters": 2e9}, "active_parameters"),
        ({"developer": " "}, "developer"),
        ({"number_format": "FP7"}, "number_format"),
        ({"training_start": date(2026, 2, 1), "training_end": date(2026, 1, 1)}, "training_end"),
        ({"base_model_training_flop": -5.0}, "base_model_training_flop"),
    ],
)
def test_bad_declaration_values_name_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(VerificationInputError) as excinfo:
        declaration(**fields)
    assert excinfo.value.field == field
    assert isinstance(excinfo.value, ValueError)
