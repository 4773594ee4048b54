"""The committed JSON Schemas and AsyncAPI document match the code, and no change breaks a published schema."""

from __future__ import annotations

import copy

import pytest

from registry_contracts.asyncapi import ASYNCAPI_PATH, asyncapi_yaml
from registry_contracts.schemas import breaking_changes, committed_schemas, generated_schemas

pytestmark = pytest.mark.unit


def test_every_event_has_a_committed_schema_equal_to_the_generated_one() -> None:
    committed = committed_schemas()
    generated = generated_schemas()
    assert sorted(generated) == sorted(committed), "run: python -m registry_contracts generate"
    for rel, schema in generated.items():
        assert committed[rel] == schema, f"{rel} differs from the code; run: python -m registry_contracts generate"


def test_no_generated_schema_breaks_its_committed_version() -> None:
    committed = committed_schemas()
    problems = [
        f"{rel}: {p}"
        for rel, s in generated_schemas().items()
        if rel in committed
        for p in breaking_changes(committed[rel], s)
    ]
    assert problems == []


def test_asyncapi_document_is_generated_from_the_code() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == asyncapi_yaml()


def _registration_schema() -> dict:
    return copy.deepcopy(committed_schemas()["intake/RegistrationSubmitted.v1.json"])


def _data_def(schema: dict) -> dict:
    return schema["$defs"]["RegistrationSubmitted"]


def test_adding_an_optional_field_is_not_breaking() -> None:
    old = _registration_schema()
    new = copy.deepcopy(old)
    _data_def(new)["properties"]["licence"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    assert breaking_changes(old, new) == []


def test_removing_a_field_is_breaking() -> None:
    old = _registration_schema()
    new = copy.deepcopy(old)
    del _data_def(new)["properties"]["model_name"]
    assert any("model_name: property removed" in p for p in breaking_changes(old, new))


def test_a_new_required_field_is_breaking() -> None:
    old = _registration_schema()
    new = copy.deepcopy(old)
    _data_def(new)["properties"]["licence"] = {"type": "string"}
    _data_def(new)["required"].append("licence")
    assert any("licence: newly required" in p for p in breaking_changes(old, new))


def test_changing_a_type_is_breaking() -> None:
    old = _registration_schema()
    new = copy.deepcopy(old)
    _data_def(new)["properties"]["version"] = {"type": "string"}
    assert any("type changed" in p for p in breaking_changes(old, new))


def test_removing_an_enum_value_is_breaking() -> None:
    old = committed_schemas()["verification/ComputeVerified.v1.json"]
    new = copy.deepcopy(old)
    new["$defs"]["VerificationStatus"]["enum"].remove("discrepancy")
    assert any("enum values removed" in p for p in breaking_changes(old, new))
