"""Build the verification service's chip catalogue (chips-v1.json) from Epoch AI's hardware table.

Run from the repository root:

    .venv/bin/python services/verification/data/build_chip_catalogue.py \
        --hardware /work/shared/data/epoch/ml_hardware.csv \
        --models /work/shared/data/epoch/notable_ai_models.csv

The committed JSON is what the service loads at run time; this script only needs the CSVs when the
catalogue is rebuilt. Only dense peak figures are kept: Epoch's performance columns are dense, and a
figure whose notes say it is a sparsity figure (and was not converted) is refused.

Source: Epoch AI's Machine Learning Hardware data (epoch.ai), CC BY.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from services.verification.domain.chips import loose_chip_keys, normalise_chip_name  # noqa: E402

CATALOGUE_VERSION = "chips-v1"
SOURCE = (
    "Epoch AI, Machine Learning Hardware data (ml_hardware.csv, mirrored 2026-08-19), epoch.ai, CC BY; "
    "chip names in Training hardware from Epoch AI, 'Parameter, Compute and Data Trends in Machine "
    "Learning' (notable-ai-models)"
)

# Catalogue format key -> Epoch column (all dense figures, FLOP/s or OP/s per chip).
FORMAT_COLUMNS = {
    "fp32": "FP32 (single precision) performance (FLOP/s)",
    "tf32": "TF32 (TensorFloat-32) performance (FLOP/s)",
    "fp16": "FP16 (half precision) performance (FLOP/s)",
    "bf16_fp16_tensor": "Tensor-FP16/BF16 performance (FLOP/s)",
    "fp8": "FP8 performance (FLOP/s)",
    "fp4": "FP4 performance (FLOP/s)",
    "int8": "INT8 performance (OP/s)",
}

# Names used in Epoch's models table (or commonly in filings) that do not normalise to one hardware
# row: each maps to the part a large training run would use, with why in the trailing comment.
CURATED_ALIASES = {
    "H100": "NVIDIA H100 SXM5 80GB",  # training clusters use the SXM part, not PCIe/NVL
    "H100 SXM": "NVIDIA H100 SXM5 80GB",
    "H200": "NVIDIA H200 SXM",
    "H800": "NVIDIA H800 SXM5",
    "A100": "NVIDIA A100",
    "A100 SXM": "NVIDIA A100 SXM4 80 GB",
    "V100": "NVIDIA V100",
    "Tesla K40c": "NVIDIA Tesla K40t",  # same GK110B chip and clocks as K40t/K40s
    "Tesla K40m": "NVIDIA Tesla K40t",
    "Tesla K40": "NVIDIA Tesla K40t",
    "Tesla K20m": "NVIDIA Tesla K20c",  # same GK110 part, passively cooled
    "Tesla K20": "NVIDIA Tesla K20c",
    "Tesla C2075": "NVIDIA Tesla C2050",  # same Fermi GF100 peak as C2050
    "TPU v6e": "Google TPU v6e Trillium",
    "TPU v7": "Google TPU v7 Ironwood",
    "Ironwood": "Google TPU v7 Ironwood",
    "Trillium": "Google TPU v6e Trillium",
    "MI300X": "AMD Instinct MI300X",
    "MI250X": "AMD Radeon Instinct MI250X",
    "Gaudi2": "Intel Habana Gaudi2",
    "Gaudi3": "Intel Habana Gaudi3",
}

# Dense figures missing from Epoch's table, from the vendor's datasheet (dense, not the sparsity figure).
SUPPLEMENTS = {
    "NVIDIA H100 SXM5 80GB": {"fp8": 1979e12},  # H100 SXM datasheet: 3,958 TFLOPS FP8 with sparsity
    "NVIDIA H800 SXM5": {"fp8": 1979e12},  # same Hopper SXM compute as H100 SXM
    "NVIDIA H100 PCIe": {"fp8": 1513e12},  # H100 PCIe datasheet: 3,026 TFLOPS FP8 with sparsity
}

# Notes that mark a figure as sparse (refused) unless they also say it was converted or is dense.
SPARSE_NOTE = re.compile(r"\bwith sparsity\b|\bsparse (?:performance|figures?)\b", re.IGNORECASE)
DENSE_NOTE = re.compile(r"without sparsity|divide performance by 2|dense matrices", re.IGNORECASE)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def build_chips(rows: list[dict[str, str]]) -> tuple[list[dict[str, object]], list[str]]:
    """Chip entries with dense peaks per format; also the names whose sparse figures were refused."""
    chips: list[dict[str, object]] = []
    refused: list[str] = []
    for row in rows:
        name = row["Hardware name"].strip()
        notes = row.get("Notes", "")
        peaks = {key: _number(row[col]) for key, col in FORMAT_COLUMNS.items()}
        peak_flops = {key: value for key, value in peaks.items() if value is not None}
        if SPARSE_NOTE.search(notes) and not DENSE_NOTE.search(notes):
            # Tensor figures may be sparse: keep only the non-tensor ones.
            peak_flops = {k: v for k, v in peak_flops.items() if k in ("fp32", "fp16")}
            refused.append(name)
        for key, value in SUPPLEMENTS.get(name, {}).items():
            peak_flops.setdefault(key, value)
        if not peak_flops:
            continue
        chips.append(
            {
                "name": name,
                "manufacturer": row["Manufacturer"].strip() or None,
                "type": row["Type"].strip() or None,
                "release_date": row["Release date"].strip() or None,
                "peak_flops": peak_flops,
            }
        )
    chips.sort(key=lambda chip: str(chip["name"]))
    return chips, refused


def build_aliases(chips: list[dict[str, object]]) -> dict[str, str]:
    """Alias (normalised) -> canonical name: unambiguous normalised forms plus the curated map."""
    canonical = {normalise_chip_name(str(c["name"])): str(c["name"]) for c in chips}
    if len(canonical) != len(chips):
        # e.g. "NVIDIA Tesla P100 PCIe 16GB" and "NVIDIA P100 PCIe 16GB": the last (sorted) name wins,
        # exactly as ChipCatalogue resolves it at run time.
        print(f"note: {len(chips) - len(canonical)} hardware name(s) share a normalised form")
    peaks = {str(c["name"]): c["peak_flops"] for c in chips}
    candidates: dict[str, set[str]] = {}
    for chip in chips:
        name = str(chip["name"])
        for key in loose_chip_keys(name):
            if key not in canonical:
                candidates.setdefault(key, set()).add(name)
    aliases: dict[str, str] = {}
    for key, names in sorted(candidates.items()):
        # A loose key is usable only when every chip it could mean has the same figures.
        if len({json.dumps(peaks[n], sort_keys=True) for n in names}) == 1:
            aliases[key] = sorted(names)[0]
    for alias, target in CURATED_ALIASES.items():
        if target not in peaks:
            raise SystemExit(f"curated alias {alias!r} points at unknown chip {target!r}")
        aliases[normalise_chip_name(alias)] = target
    return dict(sorted(aliases.items()))


def match_model_rows(rows: list[dict[str, str]], chips: list[dict[str, object]], aliases: dict[str, str]):
    """How many models-table rows name hardware the catalogue resolves (exactly, via alias, or not)."""
    exact_names = {str(c["name"]) for c in chips}
    canonical = {normalise_chip_name(n): n for n in exact_names}
    stats: Counter[str] = Counter()
    unmatched: Counter[str] = Counter()
    for row in rows:
        field = row["Training hardware"].strip()
        if not field:
            continue
        stats["rows_with_hardware"] += 1
        outcomes = []
        for part in (p.strip() for p in field.split(",") if p.strip()):
            keys = (normalise_chip_name(part), *loose_chip_keys(part))
            if part in exact_names:
                outcomes.append("exact")
            elif any(k in canonical or k in aliases for k in keys):
                outcomes.append("alias")
            else:
                outcomes.append("unmatched")
                unmatched[part] += 1
        if "unmatched" in outcomes:
            stats["rows_unmatched"] += 1
        elif "alias" in outcomes:
            stats["rows_matched_via_alias"] += 1
        else:
            stats["rows_matched_exactly"] += 1
    return dict(stats), dict(unmatched.most_common())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hardware", type=Path, default=Path("/work/shared/data/epoch/ml_hardware.csv"))
    parser.add_argument("--models", type=Path, default=Path("/work/shared/data/epoch/notable_ai_models.csv"))
    parser.add_argument("--out", type=Path, default=HERE / f"{CATALOGUE_VERSION}.json")
    parser.add_argument("--built-on", default=date.today().isoformat(), help="date recorded in the file")
    args = parser.parse_args(argv)

    with args.hardware.open(encoding="utf-8", newline="") as handle:
        hardware_rows = list(csv.DictReader(handle))
    chips, refused = build_chips(hardware_rows)
    aliases = build_aliases(chips)
    matches: dict[str, object] = {}
    if args.models.is_file():
        with args.models.open(encoding="utf-8", newline="") as handle:
            stats, unmatched = match_model_rows(list(csv.DictReader(handle)), chips, aliases)
        matches = {**stats, "unmatched_names": unmatched}
    catalogue = {
        "catalogue_version": CATALOGUE_VERSION,
        "source": SOURCE,
        "built_on": args.built_on,
        "units": "dense peak FLOP/s per chip (INT8 in OP/s); sparsity figures are never used",
        "formats": sorted(FORMAT_COLUMNS),
        "refused_sparse_figures": refused,
        "supplemented_figures": SUPPLEMENTS,
        "model_rows_matched": matches,
        "aliases": aliases,
        "chips": chips,
    }
    args.out.write_text(json.dumps(catalogue, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(chips)} chips, {len(aliases)} aliases, refused sparse: {refused}")
    if matches:
        print(f"models-table hardware rows: {json.dumps(matches, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
