"""The chip catalogue: dense peak FLOP/s per chip and number format, with name aliases.

Built from Epoch AI's Machine Learning Hardware data (see services/verification/data/). Only dense
figures are accepted: a sparsity figure would double a hardware estimate and hide understatement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from services.verification.domain.errors import UnknownNumberFormatError, VerificationInputError

MAX_PEAK_FLOPS = 1e18  # no chip is within three orders of magnitude of this; catches unit mistakes


class NumberFormat(StrEnum):
    """Number formats with a peak figure in the catalogue."""

    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"  # non-tensor (vector) half precision
    BF16_FP16_TENSOR = "bf16_fp16_tensor"  # tensor/matrix units: what mixed-precision training uses
    FP8 = "fp8"
    FP4 = "fp4"
    INT8 = "int8"

    @property
    def description(self) -> str:
        return _FORMAT_DESCRIPTIONS[self]


_FORMAT_DESCRIPTIONS = {
    NumberFormat.FP32: "FP32 single precision",
    NumberFormat.TF32: "TF32 tensor",
    NumberFormat.FP16: "FP16 half precision (non-tensor)",
    NumberFormat.BF16_FP16_TENSOR: "BF16/FP16 tensor",
    NumberFormat.FP8: "FP8",
    NumberFormat.FP4: "FP4",
    NumberFormat.INT8: "INT8",
}

DEFAULT_NUMBER_FORMAT = NumberFormat.BF16_FP16_TENSOR

# What developers write -> catalogue format. "FP16"/"BF16" in a filing means mixed-precision training
# on tensor units, not the slower vector rate.
_FORMAT_NAMES = {
    "fp32": NumberFormat.FP32,
    "float32": NumberFormat.FP32,
    "tf32": NumberFormat.TF32,
    "fp16": NumberFormat.BF16_FP16_TENSOR,
    "bf16": NumberFormat.BF16_FP16_TENSOR,
    "float16": NumberFormat.BF16_FP16_TENSOR,
    "bfloat16": NumberFormat.BF16_FP16_TENSOR,
    "fp16/bf16": NumberFormat.BF16_FP16_TENSOR,
    "bf16/fp16": NumberFormat.BF16_FP16_TENSOR,
    "bf16_fp16_tensor": NumberFormat.BF16_FP16_TENSOR,
    "mixed": NumberFormat.BF16_FP16_TENSOR,
    "fp16 vector": NumberFormat.FP16,
    "fp8": NumberFormat.FP8,
    "fp4": NumberFormat.FP4,
    "nvfp4": NumberFormat.FP4,
    "mxfp4": NumberFormat.FP4,
    "int8": NumberFormat.INT8,
}


def parse_number_format(text: str | NumberFormat | None, *, field_name: str = "number_format"):
    """Map a declared number format ("BF16", "FP8", ...) to a catalogue format; None stays None."""
    if text is None or isinstance(text, NumberFormat):
        return text
    key = " ".join(text.strip().casefold().replace("-", "").split())
    if key in ("", "unknown"):
        return None
    if key not in _FORMAT_NAMES:
        known = sorted({k.upper() for k in _FORMAT_NAMES})
        raise UnknownNumberFormatError(field_name, f"unknown number format {text!r}; known: {known}")
    return _FORMAT_NAMES[key]


_DROP_TOKENS = frozenset({"nvidia", "google", "amd", "intel", "tesla", "geforce"})


def normalise_chip_name(name: str) -> str:
    """Case-, punctuation- and vendor-insensitive key for a chip name ("NVIDIA H100-SXM5" -> "h100 sxm5")."""
    text = name.casefold().replace("pcle", "pcie")  # Epoch's table spells some PCIe parts "PCle"
    text = re.sub(r"[()\[\],_\-/]+", " ", text)
    return " ".join(token for token in text.split() if token not in _DROP_TOKENS)


_MEMORY_TOKEN = re.compile(r"\b\d+\s*gb?\b")
_FORM_FACTOR_TOKEN = re.compile(r"\b(sxm\d?|pcie|oam|nvl)\b")


def loose_chip_keys(name: str) -> tuple[str, ...]:
    """Looser keys for a chip name, tried in order: without memory size, then also without form factor."""
    base = normalise_chip_name(name)
    no_memory = " ".join(_MEMORY_TOKEN.sub(" ", base).split())
    no_form = " ".join(_FORM_FACTOR_TOKEN.sub(" ", no_memory).split())
    return tuple(dict.fromkeys(k for k in (no_memory, no_form) if k and k != base))


@dataclass(frozen=True)
class ChipSpec:
    """One chip: dense peak per number format, in FLOP/s (INT8 in OP/s)."""

    name: str
    peak_flops: Mapping[NumberFormat, float]
    manufacturer: str | None = None
    release_date: str | None = None
    source: str = "catalogue"

    def peak_for(self, requested: NumberFormat | None) -> tuple[float, NumberFormat, str | None]:
        """Peak for a format, falling back (with a note) when the chip has no figure for it."""
        fmt = requested or DEFAULT_NUMBER_FORMAT
        if fmt in self.peak_flops:
            return self.peak_flops[fmt], fmt, None
        # Chips without tensor units mostly trained in FP32: use it, the lower and safer peak.
        order: tuple[NumberFormat, ...] = (NumberFormat.FP32, NumberFormat.TF32, NumberFormat.FP16)
        if fmt in (NumberFormat.FP8, NumberFormat.FP4, NumberFormat.INT8):
            order = (NumberFormat.BF16_FP16_TENSOR, *order)
        elif fmt is NumberFormat.FP32:
            order = (NumberFormat.TF32, NumberFormat.FP16, NumberFormat.BF16_FP16_TENSOR)
        best = next((f for f in order if f in self.peak_flops), None) or max(
            self.peak_flops, key=lambda f: self.peak_flops[f]
        )
        note = (
            f"{self.name} has no {fmt.description} figure in the catalogue; "
            f"used its {best.description} peak {self.peak_flops[best]:.3g} FLOP/s"
        )
        return self.peak_flops[best], best, note


@dataclass(frozen=True)
class ChipCatalogue:
    """Versioned chip catalogue with alias resolution; build with `parse_chip_catalogue`."""

    version: str
    source: str
    built_on: str
    chips: Mapping[str, ChipSpec]
    aliases: Mapping[str, str] = field(default_factory=dict)  # normalised name or alias -> chip name

    def find(self, name: str) -> ChipSpec | None:
        """The chip a declared name refers to (exact, normalised or alias), or None when unknown."""
        if name in self.chips:
            return self.chips[name]
        for key in (normalise_chip_name(name), *loose_chip_keys(name)):
            target = self.aliases.get(key)
            if target:
                return self.chips.get(target)
        return None

    def __len__(self) -> int:
        return len(self.chips)


def parse_chip_entry(entry: Mapping[str, Any], *, source: str) -> ChipSpec:
    """Validate one chip entry ({"name", "peak_flops": {format: FLOP/s}}); sparsity figures are refused."""
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise VerificationInputError("chips[].name", f"every chip needs a name (in {source})")
    if entry.get("sparsity") or entry.get("sparse"):
        raise VerificationInputError(f"chips[{name}]", "sparsity figures are refused: give dense peaks")
    raw = entry.get("peak_flops")
    if not isinstance(raw, Mapping) or not raw:
        raise VerificationInputError(f"chips[{name}].peak_flops", "must map number formats to FLOP/s")
    peaks: dict[NumberFormat, float] = {}
    for key, value in raw.items():
        if "spars" in str(key).casefold():
            raise VerificationInputError(f"chips[{name}].peak_flops.{key}", "sparsity figures are refused")
        try:
            fmt = NumberFormat(str(key).casefold())
        except ValueError:
            fmt = parse_number_format(str(key), field_name=f"chips[{name}].peak_flops.{key}")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= MAX_PEAK_FLOPS:
            raise VerificationInputError(
                f"chips[{name}].peak_flops.{key}", f"must be a positive FLOP/s figure, got {value!r}"
            )
        if fmt is not None:
            peaks[fmt] = float(value)
    return ChipSpec(
        name=name.strip(),
        peak_flops=MappingProxyType(peaks),
        manufacturer=entry.get("manufacturer"),
        release_date=entry.get("release_date"),
        source=source,
    )


def parse_chip_catalogue(
    data: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None, extra_source: str = "extra"
) -> ChipCatalogue:
    """Validate a catalogue mapping (the committed JSON), optionally merging extra chips and aliases.

    Extra chips replace catalogue chips of the same name; extra aliases add to (or override) ours.
    """
    version = str(data.get("catalogue_version", "unknown"))
    chips = {spec.name: spec for spec in (parse_chip_entry(e, source=version) for e in data.get("chips", ()))}
    aliases = {normalise_chip_name(k): v for k, v in dict(data.get("aliases", {})).items()}
    if extra:
        for entry in extra.get("chips", ()):
            spec = parse_chip_entry(entry, source=extra_source)
            chips[spec.name] = spec
        for alias, target in dict(extra.get("aliases", {})).items():
            aliases[normalise_chip_name(alias)] = target
        version = f"{version}+{extra_source}"
    # A chip's own (normalised) name always wins over a loose alias of another chip.
    aliases.update({normalise_chip_name(name): name for name in chips})
    for alias, target in aliases.items():
        if target not in chips:
            raise VerificationInputError(f"aliases[{alias}]", f"points at unknown chip {target!r}")
    return ChipCatalogue(
        version=version,
        source=str(data.get("source", "")),
        built_on=str(data.get("built_on", "")),
        chips=MappingProxyType(chips),
        aliases=MappingProxyType(aliases),
    )
