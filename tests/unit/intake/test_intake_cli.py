"""The registrant CLI: kinds inferred from the file, problems shown plainly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.intake.cli import CliError, describe_problem, infer_kind, load_filing, main

pytestmark = pytest.mark.unit


def test_yaml_and_json_filings_load_and_their_kind_is_inferred(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "developer: {organisation_id: a, legal_name: A, country: GB}\nmodel_name: m\n"
        "compute: {declared_training_flop: 1.0e+24}\n"
    )
    (tmp_path / "i.json").write_text('{"category": "other", "narrative": "x", "registry_id": "FMR-2026-000001"}')
    assert infer_kind(load_filing(tmp_path / "r.yaml")) == "registration"
    assert infer_kind(load_filing(tmp_path / "i.json")) == "incident_report"
    assert infer_kind({"kind": "amendment", "description": "d"}) == "amendment"
    with pytest.raises(CliError, match="cannot tell"):
        infer_kind({"hello": 1})


def test_validation_problems_are_listed_one_field_a_line() -> None:
    problem = {
        "title": "Invalid request",
        "detail": "2 field(s) are invalid",
        "errors": [
            {"field": "compute.parameters", "reason": "Input should be less than or equal to 1e15"},
            {"field": "access_mode", "reason": "Input should be 'api', 'open_weights' or 'product'"},
        ],
    }
    text = describe_problem(httpx.Response(422, json=problem))
    assert text.splitlines() == [
        "Invalid request (HTTP 422): 2 field(s) are invalid",
        "  - compute.parameters: Input should be less than or equal to 1e15",
        "  - access_mode: Input should be 'api', 'open_weights' or 'product'",
    ]


def test_a_filing_about_a_model_needs_its_registry_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text("status: deployed\nmarkets: [GB]\neffective_date: 2026-01-01\n")
    assert main(["submit", str(tmp_path / "s.yaml")]) == 1
    assert "give --registry-id" in capsys.readouterr().err
