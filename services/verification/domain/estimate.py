"""The result every estimator returns, and how figures are written for officers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

InputValue = float | int | str | None


class EstimateMethod(StrEnum):
    """The independent ways of estimating training compute."""

    ARCHITECTURE = "architecture"
    HARDWARE = "hardware"
    ATTESTATION = "attestation"
    RECORD = "record"  # the registry's own record of earlier versions (amendments: cumulative compute)

    @property
    def description(self) -> str:
        return {
            EstimateMethod.ARCHITECTURE: "k x parameters x tokens seen (k = 6 for dense transformers)",
            EstimateMethod.HARDWARE: "chips x dense peak FLOP/s x seconds x utilisation",
            EstimateMethod.ATTESTATION: "provider-attested chip-hours x dense peak FLOP/s x utilisation",
            EstimateMethod.RECORD: "the model's compute on record before this version, plus this modification",
        }[self]


@dataclass(frozen=True, kw_only=True)
class ComputeEstimate:
    """One estimate of training compute, with the inputs it used and why it says what it says.

    `value_flop` is the point estimate; `low_flop`..`high_flop` its band (equal for point estimates);
    `comparison_flop` is the figure compared with the declaration and thresholds: the low end of a band
    (the reading most favourable to the developer), or, when a declared utilisation is implausible,
    the figure at the nearest plausible utilisation. `disclosed` is False when a core input had to be
    derived rather than declared (then the undisclosed tolerance applies). `cumulative` is True when the
    figure already covers the whole model (base and every modification), not only this version's run.
    None values mean no estimate.
    """

    method: EstimateMethod
    value_flop: float | None
    low_flop: float | None = None
    high_flop: float | None = None
    comparison_flop: float | None = None
    disclosed: bool = True
    implausible: bool = False
    cumulative: bool = False
    formula: str = ""
    inputs: Mapping[str, InputValue] = field(default_factory=lambda: MappingProxyType({}))
    reasons: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """Whether an estimate could be made at all."""
        return self.value_flop is not None

    @property
    def uncertainty_factor(self) -> float | None:
        """high / low of the band (1.0 for a point estimate); None without an estimate."""
        if self.low_flop is None or self.high_flop is None or self.low_flop <= 0:
            return None
        return self.high_flop / self.low_flop

    @property
    def label(self) -> str:
        return f"{self.method.value} estimate"


def no_estimate(method: EstimateMethod, *reasons: str, inputs: Mapping[str, InputValue] | None = None):
    """An estimate that could not be made, with the reasons (insufficient evidence, never an error)."""
    return ComputeEstimate(
        method=method, value_flop=None, inputs=MappingProxyType(dict(inputs or {})), reasons=tuple(reasons)
    )


def format_flop(value: float) -> str:
    """Scientific notation an officer reads easily: 5.88e24 -> '5.9e24', 1e25 -> '1e25'."""
    mantissa, exponent = f"{value:.1e}".split("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    return f"{mantissa}e{int(exponent)}"


def format_factor(value: float) -> str:
    """A ratio or tolerance: 2.0 -> '2x', 2.94 -> '2.9x'."""
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"{text.removesuffix('.0')}x"
