"""Architecture and hardware estimates of training compute (pure functions)."""

from __future__ import annotations

from types import MappingProxyType

from services.plumbing.rule_profile import VerificationRules
from services.verification.domain.chips import ChipCatalogue
from services.verification.domain.declaration import ComputeDeclaration
from services.verification.domain.estimate import (
    ComputeEstimate,
    EstimateMethod,
    InputValue,
    format_flop,
    no_estimate,
)

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0


def estimate_from_architecture(declaration: ComputeDeclaration, *, rules: VerificationRules) -> ComputeEstimate:
    """C = k x N x D: N active parameters (total for dense models), D tokens seen = tokens x epochs."""
    method = EstimateMethod.ARCHITECTURE
    k = rules.architecture_flop_per_param_token
    inputs: dict[str, InputValue] = {"flop_per_param_token": k}
    reasons: list[str] = []
    n: float | None
    if declaration.is_mixture_of_experts:
        if declaration.active_parameters is None:
            return no_estimate(
                method,
                "mixture-of-experts model without declared active parameters: total parameters would "
                "overstate compute, so no architecture estimate",
                inputs={**inputs, "parameters": declaration.parameters},
            )
        n = declaration.active_parameters
        inputs["active_parameters"] = n
        reasons.append(f"mixture-of-experts: used {n:.3g} active parameters per token")
    else:
        n = declaration.active_parameters or declaration.parameters
        if n is None:
            return no_estimate(method, "parameters not declared")
        inputs["parameters"] = n
    if declaration.training_tokens is None:
        return no_estimate(method, "training tokens not declared", inputs=inputs)
    epochs = declaration.epochs
    if epochs is None:
        epochs = 1.0
        reasons.append("epochs not declared: assumed 1 (tokens seen = dataset tokens)")
    tokens_seen = declaration.training_tokens * epochs
    inputs.update({"training_tokens": declaration.training_tokens, "epochs": epochs, "tokens_seen": tokens_seen})
    value = k * n * tokens_seen
    formula = f"{k:g} x {format_flop(n)} params x {format_flop(tokens_seen)} tokens"
    reasons.insert(0, f"{formula} = {format_flop(value)} FLOP")
    return ComputeEstimate(
        method=method,
        value_flop=value,
        low_flop=value,
        high_flop=value,
        comparison_flop=value,
        formula=formula,
        inputs=MappingProxyType(inputs),
        reasons=tuple(reasons),
    )


def training_duration_hours(declaration: ComputeDeclaration) -> tuple[float | None, bool, str | None]:
    """(hours, declared?, note): declared hours, else the training period's length (an upper bound)."""
    if declaration.training_hours is not None:
        return declaration.training_hours, True, None
    start, end = declaration.training_start, declaration.training_end
    if start is not None and end is not None and end > start:
        hours = (end - start).days * HOURS_PER_DAY
        note = (
            f"training hours not declared: used the training period {start.isoformat()}..{end.isoformat()} "
            f"({hours:g} h), an upper bound on training time"
        )
        return hours, False, note
    return None, False, None


def utilisation_band(
    declared: float | None, *, rules: VerificationRules
) -> tuple[float, float, float, float, list[str], bool]:
    """(point, low, high, comparison, reasons, implausible) utilisation for a hardware-style estimate."""
    low_ok, high_ok = rules.utilisation_plausible_low, rules.utilisation_plausible_high
    if declared is None:
        low, high = rules.utilisation_typical_low, rules.utilisation_typical_high
        reasons = [
            f"utilisation not declared: typical band {low:g}-{high:g} (point {(low + high) / 2:g}); "
            f"compared at {low:g}, the reading most favourable to the developer"
        ]
        return (low + high) / 2, low, high, low, reasons, False
    if low_ok <= declared <= high_ok:
        return declared, declared, declared, declared, [f"declared utilisation {declared:g}"], False
    nearest = min(max(declared, low_ok), high_ok)
    reasons = [
        f"declared utilisation {declared:g} is implausible (outside {low_ok:g}-{high_ok:g}); "
        f"computed with it, but compared at the nearest plausible utilisation {nearest:g}"
    ]
    return declared, min(declared, nearest), max(declared, nearest), nearest, reasons, True


def estimate_from_hardware(
    declaration: ComputeDeclaration, *, rules: VerificationRules, catalogue: ChipCatalogue
) -> ComputeEstimate:
    """C = chips x dense peak FLOP/s (declared format, default BF16/FP16 tensor) x seconds x utilisation."""
    method = EstimateMethod.HARDWARE
    missing = [
        name
        for name, value in (("chip_type", declaration.chip_type), ("chip_count", declaration.chip_count))
        if value is None
    ]
    hours, hours_declared, duration_note = training_duration_hours(declaration)
    if hours is None:
        missing.append("training_hours (or training_start/training_end)")
    if missing:
        return no_estimate(method, f"not declared: {', '.join(missing)}")
    assert declaration.chip_type is not None and declaration.chip_count is not None and hours is not None
    chip = catalogue.find(declaration.chip_type)
    if chip is None:
        return no_estimate(
            method,
            f"unknown chip {declaration.chip_type!r} (not in chip catalogue {catalogue.version})",
            inputs={"chip_type": declaration.chip_type},
        )
    peak, fmt, format_note = chip.peak_for(declaration.format)
    point_u, low_u, high_u, compare_u, u_reasons, implausible = utilisation_band(
        declaration.declared_utilisation, rules=rules
    )
    raw = declaration.chip_count * peak * hours * SECONDS_PER_HOUR
    value = raw * point_u
    formula = (
        f"{declaration.chip_count:,} x {chip.name} {peak / 1e12:g} TFLOP/s ({fmt.description}) "
        f"x {hours:g} h x {point_u:g} utilisation"
    )
    reasons = [f"{formula} = {format_flop(value)} FLOP", *u_reasons]
    if chip.name != declaration.chip_type:
        reasons.append(f"chip {declaration.chip_type!r} read as catalogue entry {chip.name!r}")
    reasons.extend(note for note in (format_note, duration_note) if note)
    inputs: dict[str, InputValue] = {
        "chip_type": chip.name,
        "chip_count": declaration.chip_count,
        "peak_flops": peak,
        "number_format": fmt.value,
        "training_hours": hours,
        "utilisation": point_u,
        "catalogue_version": catalogue.version,
    }
    return ComputeEstimate(
        method=method,
        value_flop=value,
        low_flop=raw * low_u,
        high_flop=raw * high_u,
        comparison_flop=raw * compare_u,
        disclosed=hours_declared,
        implausible=implausible,
        formula=formula,
        inputs=MappingProxyType(inputs),
        reasons=tuple(reasons),
    )


__all__ = [
    "estimate_from_architecture",
    "estimate_from_hardware",
    "training_duration_hours",
    "utilisation_band",
]
