from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from registry_contracts import CaseOpened, Envelope, RawEnvelope, event_types, new_envelope

pytestmark = pytest.mark.unit


def _case() -> CaseOpened:
    return CaseOpened(
        case_id="C-1",
        registry_id="FMR-2026-000001",
        rule="compute_discrepancy",
        summary="understated",
        opened_at=datetime(2026, 1, 2, tzinfo=UTC),
        evidence_event_id=str(uuid.uuid4()),
    )


def test_envelope_carries_cloudevents_attributes_and_round_trips() -> None:
    cause = uuid.uuid4()
    envelope = new_envelope(_case(), subject="FMR-2026-000001", correlation_id="corr-1", causation_id=str(cause))
    assert envelope.specversion == "1.0"
    assert envelope.type == "registry.enforcement.CaseOpened.v1"
    assert envelope.source == "/registry/enforcement"
    assert envelope.dataschema == "urn:frontier-registry:schema:enforcement:CaseOpened:v1"
    assert envelope.subject == "FMR-2026-000001"
    parsed = Envelope[CaseOpened].model_validate_json(envelope.model_dump_json())
    assert parsed == envelope
    raw = RawEnvelope.model_validate_json(envelope.model_dump_json())
    assert raw.correlationid == "corr-1" and raw.causationid == str(cause)


def test_correlation_defaults_to_the_event_itself() -> None:
    envelope = new_envelope(_case(), subject="FMR-2026-000001")
    assert envelope.correlationid == str(envelope.id)


def test_unknown_payload_fields_are_rejected() -> None:
    envelope = new_envelope(_case(), subject="FMR-2026-000001")
    body = envelope.model_dump(mode="json")
    body["data"]["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        Envelope[CaseOpened].model_validate(body)


def test_every_event_type_is_unique_and_named_in_the_past_tense() -> None:
    types = event_types()
    assert "registry.intake.RegistrationSubmitted.v1" in types
    for name in types:
        event_name = name.split(".")[2]
        assert event_name.endswith(("ed", "Taken")), name  # past participles: regular, or irregular listed
