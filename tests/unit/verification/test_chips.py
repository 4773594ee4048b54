"""The chip catalogue: DOMAIN.md's reference figures, aliases, sparsity refusal, extra chips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.verification.domain import (
    ChipCatalogue,
    NumberFormat,
    UnknownNumberFormatError,
    VerificationInputError,
    load_chip_catalogue,
    normalise_chip_name,
    parse_chip_catalogue,
    parse_number_format,
)
from services.verification.domain.catalogue_loader import DEFAULT_CATALOGUE_PATH

pytestmark = pytest.mark.unit

TENSOR = NumberFormat.BF16_FP16_TENSOR


@pytest.mark.parametrize(
    ("name", "tflops"),
    [
        ("H100 SXM", 989),
        ("NVIDIA H100 SXM5 80GB", 989),
        ("A100", 312),
        ("TPU v4", 275),
        ("Google TPU v5e", 197),
        ("TPU v5p", 459),
    ],
)
def test_reference_dense_bf16_peaks_match_domain(catalogue: ChipCatalogue, name: str, tflops: float) -> None:
    chip = catalogue.find(name)
    assert chip is not None
    assert chip.peak_flops[TENSOR] == pytest.approx(tflops * 1e12, rel=1e-3)


def test_catalogue_is_versioned_and_sourced(catalogue: ChipCatalogue) -> None:
    data = json.loads(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert data["catalogue_version"] == "chips-v1" == catalogue.version
    assert "Epoch AI" in data["source"] and data["built_on"]
    assert data["refused_sparse_figures"] == []
    assert len(catalogue) > 150
    matched = data["model_rows_matched"]
    assert matched["rows_matched_exactly"] + matched["rows_matched_via_alias"] >= 300


@pytest.mark.parametrize(
    ("declared", "canonical"),
    [
        ("Nvidia H100 80G", "NVIDIA H100 SXM5 80GB"),
        ("h100", "NVIDIA H100 SXM5 80GB"),
        ("NVIDIA H100-PCIe", "NVIDIA H100 PCIe"),
        ("NVIDIA H200", "NVIDIA H200 SXM"),
        ("NVIDIA Tesla K40c", "NVIDIA Tesla K40t"),
        ("NVIDIA L2 PCIe", "NVIDIA L2 PCle"),
        ("TPU v6e", "Google TPU v6e Trillium"),
    ],
)
def test_aliases_resolve_variant_names(catalogue: ChipCatalogue, declared: str, canonical: str) -> None:
    chip = catalogue.find(declared)
    assert chip is not None and chip.name == canonical


def test_pcie_and_sxm_are_different_chips(catalogue: ChipCatalogue) -> None:
    pcie, sxm = catalogue.find("H100 PCIe"), catalogue.find("H100 SXM")
    assert pcie is not None and sxm is not None
    assert pcie.peak_flops[TENSOR] == pytest.approx(756e12)
    assert sxm.peak_flops[TENSOR] == pytest.approx(989.4e12)


def test_unknown_chip_is_none_not_error(catalogue: ChipCatalogue) -> None:
    assert catalogue.find("Quantum Abacus 9000") is None


def test_normalise_chip_name() -> None:
    assert normalise_chip_name("NVIDIA  H100-SXM5 (80GB)") == "h100 sxm5 80gb"
    assert normalise_chip_name("Google TPU v4") == "tpu v4"


def test_fallback_for_chip_without_tensor_units_uses_fp32(catalogue: ChipCatalogue) -> None:
    chip = catalogue.find("NVIDIA Tesla K80")
    assert chip is not None
    peak, fmt, note = chip.peak_for(None)
    assert fmt is NumberFormat.FP32 and peak == pytest.approx(8.126e12)
    assert note is not None and "no BF16/FP16 tensor figure" in note


def test_fp8_on_chip_without_fp8_falls_back_to_bf16(catalogue: ChipCatalogue) -> None:
    chip = catalogue.find("TPU v4")
    assert chip is not None
    peak, fmt, note = chip.peak_for(NumberFormat.FP8)
    assert fmt is TENSOR and peak == pytest.approx(275e12) and note


@pytest.mark.parametrize(
    ("text", "expected"),
    [("BF16", TENSOR), ("fp16", TENSOR), ("FP8", NumberFormat.FP8), ("NVFP4", NumberFormat.FP4), ("", None)],
)
def test_parse_number_format(text: str, expected: NumberFormat | None) -> None:
    assert parse_number_format(text) is expected


def test_unknown_number_format_names_field() -> None:
    with pytest.raises(UnknownNumberFormatError, match="number_format: unknown number format 'FP7'"):
        parse_number_format("FP7")


def test_extra_chips_merge_from_json_and_toml(tmp_path: Path) -> None:
    extra_json = tmp_path / "extra.json"
    extra_json.write_text(
        json.dumps(
            {
                "chips": [{"name": "Acme Tensor X1", "peak_flops": {"bf16_fp16_tensor": 5e14}}],
                "aliases": {"X1": "Acme Tensor X1"},
            }
        ),
        encoding="utf-8",
    )
    merged = load_chip_catalogue(extra_json)
    chip = merged.find("x1")
    assert chip is not None and chip.peak_flops[TENSOR] == 5e14 and chip.source == "extra.json"
    assert merged.version == "chips-v1+extra.json"
    assert merged.find("H100") is not None
    extra_toml = tmp_path / "extra.toml"
    extra_toml.write_text('[[chips]]\nname = "Acme Y2"\npeak_flops = { bf16 = 7e14 }\n', encoding="utf-8")
    chip = load_chip_catalogue(extra_toml).find("Acme Y2")
    assert chip is not None and chip.peak_flops[TENSOR] == 7e14


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"name": "S", "peak_flops": {"bf16_fp16_tensor": 1e15}, "sparsity": True}, "chips[S]"),
        ({"name": "S", "peak_flops": {"bf16_sparse": 2e15}}, "chips[S].peak_flops.bf16_sparse"),
        ({"name": "S", "peak_flops": {"bf16_fp16_tensor": -1}}, "chips[S].peak_flops.bf16_fp16_tensor"),
        ({"name": "S", "peak_flops": {}}, "chips[S].peak_flops"),
        ({"peak_flops": {"fp32": 1e12}}, "chips[].name"),
    ],
)
def test_bad_extra_chips_are_refused(entry: dict[str, object], field: str) -> None:
    with pytest.raises(VerificationInputError) as excinfo:
        parse_chip_catalogue({"chips": []}, extra={"chips": [entry]})
    assert excinfo.value.field == field


def test_missing_extra_file_names_setting(tmp_path: Path) -> None:
    with pytest.raises(VerificationInputError, match="chip_catalogue_extra"):
        load_chip_catalogue(tmp_path / "nope.json")


def test_alias_to_unknown_chip_is_refused() -> None:
    with pytest.raises(VerificationInputError, match="points at unknown chip"):
        parse_chip_catalogue({"chips": [], "aliases": {"x": "Nothing"}})
