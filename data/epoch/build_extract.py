"""Build data/epoch/notable_models_extract.csv from Epoch AI's Notable AI Models table.

    .venv/bin/python data/epoch/build_extract.py [--source /work/shared/data/epoch/notable_ai_models.csv]

Keeps the models the verification accuracy harness can use: known training compute AND either
architecture inputs (parameters, or active parameters for mixture-of-experts models, plus a dataset
size in tokens) or hardware inputs (one chip type, chip count and training hours); fine-tunes (rows
with a base model) are left out. See README.md.

Source: Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning', epoch.ai
(notable-ai-models), CC BY.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/work/shared/data/epoch/notable_ai_models.csv")

# Domains where Epoch's `Training dataset size (total)` counts tokens. Elsewhere (vision, speech,
# multimodal, biology, games, ...) it counts images, pairs, hours, sequences or steps, so 6ND is not used.
TOKEN_DOMAINS = frozenset({"Language", "Mathematics"})
# C = 6ND approximates dense transformers, where every parameter works on every token. Earlier language
# models (n-gram tables, word embeddings, recurrent nets with huge vocabularies) break it by orders of
# magnitude, so the architecture estimate is used from the transformer paper's date on.
ARCHITECTURE_FROM = "2017-06-12"

COLUMNS = [
    "model",
    "organization",
    "publication_date",
    "domain",
    "confidence",
    "training_compute_flop",
    "compute_method",
    "parameters",
    "active_parameters",
    "is_mixture_of_experts",
    "dataset_size",
    "dataset_size_is_tokens",
    "architecture_inputs_usable",
    "epochs",
    "training_hardware",
    "hardware_quantity",
    "training_hours",
    "hardware_utilization",
    "numerical_format",
    "base_model",
    "finetune_compute_flop",
]

# Mixture-of-experts rows whose notes the patterns below cannot read; value = active parameters,
# None = not an MoE model after all (the notes only cite an MoE paper), "unknown" = MoE, active unknown.
ACTIVE_OVERRIDES: dict[str, float | str | None] = {
    "Grok-1": 78.5e9,  # "25% of the weights active on a given token" of 314B
    "GLM-5": 40e9,  # the GLM-5.3 row: "744B total and 40B active"
    "ST-MoE": 32e9,  # "equivalent to a 32B dense model"
    "LongCat-Flash": 27e9,  # "activates 18.6B-31.3B parameters (averaging ~27B)"
    "GPT-4 (Mar 2023)": 280e9,  # rumoured 280B activated (speculative, as Epoch says)
    "Qwen3-Max": "unknown",
    "Switch": "unknown",
    "M6-T": "unknown",
    "M4-50B": "unknown",
    "GLaM": 96.6e9,  # GLaM paper: 1.2T total, 96.6B activated per token
    "NLLB": 3.3e9,  # "FLOPs similar to that of a 3.3B dense model" (54.5B total)
    "PanGu-Σ": "unknown",  # "sparse architecture containing 1.085 trillion parameters"
    "Sparse all-MLP": "unknown",  # sparsely activated MLP, active count not given
    "MoE-Multi": "unknown",  # the sparsely-gated MoE paper's model
    "GNMT": None,
    "CogVLM-17B": None,
}

_NUMBER = r"(\d+(?:\.\d+)?)\s*(b|billion)\b"
_ACTIVE_PATTERNS = [
    re.compile(_NUMBER + r"\s*(?:parameters?\s*|params?\s*)?(?:are\s+)?(?:active|activated|activation)", re.I),
    re.compile(r"activ(?:e|ated)\s*(?:parameters?|params?)?\s*[:\-–]?\s*(?:up to\s*)?" + _NUMBER, re.I),
    re.compile(r"up to\s+" + _NUMBER + r"\s+active", re.I),
]
_MOE_NOTE = re.compile(r"\bMoE\b|mixture[- ]of[- ]experts|\bexperts\b|\bactiv(?:e|ated)\b|activation param", re.I)
_MOE_NAME = re.compile(r"-A(\d+(?:\.\d+)?)B\b")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def active_parameters(row: dict[str, str]) -> tuple[bool, float | None]:
    """(is MoE, active parameters or None) from the notes, the model name and the overrides."""
    name = row["Model"]
    if name in ACTIVE_OVERRIDES:
        override = ACTIVE_OVERRIDES[name]
        if override is None:
            return False, None
        return True, override if isinstance(override, float) else None
    notes = row["Parameters notes"]
    name_match = _MOE_NAME.search(name) or _MOE_NAME.search(notes)
    if not (_MOE_NOTE.search(notes) or name_match):
        return False, None
    for pattern in _ACTIVE_PATTERNS:
        match = pattern.search(notes)
        if match:
            return True, float(match.group(1)) * 1e9
    if name_match:
        return True, float(name_match.group(1)) * 1e9
    return True, None


def compute_method(notes: str) -> str:
    """How Epoch got its compute figure, read from its notes: architecture (6ND), hardware, both, other."""
    arch = re.search(r"6\s*\*|\*\s*6\b|6ND|6\s*FLOP|C\s*=\s*6|6\s*x\s", notes, re.I)
    hardware = re.search(r"utili[sz]ation|gpu[- ]?(hours|days)|tpu[- ]?(hours|days)|chip[- ]?hours|FLOP/s", notes, re.I)
    if arch and hardware:
        return "both"
    return "architecture" if arch else "hardware" if hardware else "other"


def extract_row(row: dict[str, str]) -> dict[str, str] | None:
    """The harness's view of one Epoch row, or None when it is not usable."""
    compute = _number(row["Training compute (FLOP)"])
    if compute is None:
        return None
    domains = {d.strip() for d in row["Domain"].split(",") if d.strip()}
    is_tokens = bool(domains) and domains <= TOKEN_DOMAINS
    params = _number(row["Parameters"])
    dataset = _number(row["Training dataset size (total)"])
    is_moe, active = active_parameters(row)
    transformer_era = row["Publication date"].strip() >= ARCHITECTURE_FROM
    arch_ok = bool(is_tokens and transformer_era and dataset and (active if is_moe else params))
    hardware = row["Training hardware"].strip()
    quantity = _number(row["Hardware quantity"])
    hours = _number(row["Training time (hours)"])
    hw_ok = bool(hardware and "," not in hardware and quantity and hours)
    if row["Base model"].strip():
        # Epoch's figure for a fine-tune includes its base model, while its inputs describe sometimes
        # the fine-tune and sometimes the base: neither comparison would be meaningful.
        return None
    if not (arch_ok or hw_ok):
        return None
    mfu = _number(row["Hardware utilization (MFU)"])
    return {
        "model": row["Model"],
        "organization": row["Organization"],
        "publication_date": row["Publication date"],
        "domain": row["Domain"],
        "confidence": row["Confidence"],
        "training_compute_flop": repr(compute),
        "compute_method": compute_method(row["Training compute notes"]),
        "parameters": repr(params) if params else "",
        "active_parameters": repr(active) if active else "",
        "is_mixture_of_experts": "true" if is_moe else "false",
        "dataset_size": repr(dataset) if dataset else "",
        "dataset_size_is_tokens": "true" if is_tokens else "false",
        "architecture_inputs_usable": "true" if arch_ok else "false",
        "epochs": row["Epochs"].strip(),
        "training_hardware": hardware if hw_ok else "",
        "hardware_quantity": repr(quantity) if hw_ok else "",
        "training_hours": repr(hours) if hw_ok else "",
        "hardware_utilization": repr(mfu) if hw_ok and mfu else "",
        "numerical_format": row["Numerical format"].strip(),
        "base_model": row["Base model"].strip(),
        "finetune_compute_flop": row["Finetune compute (FLOP)"].strip(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=HERE / "notable_models_extract.csv")
    args = parser.parse_args(argv)
    with args.source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in (extract_row(row) for row in rows) if r is not None]
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    methods = Counter(r["compute_method"] for r in kept)
    print(f"wrote {args.out}: {len(kept)} of {len(rows)} rows usable; Epoch compute method: {dict(methods)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
