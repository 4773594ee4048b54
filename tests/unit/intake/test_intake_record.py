"""The one redaction: each field of the record is visible exactly to the audiences its level allows."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.domain.record import (
    FIELD_CLASSES,
    Audience,
    Confidentiality,
    classify,
    redact,
    split_restricted,
)

pytestmark = pytest.mark.unit
SEES = {
    Confidentiality.PUBLIC: set(Audience),
    Confidentiality.CONFIDENTIAL: {Audience.REGISTRANT, Audience.STAFF, Audience.RESTRICTED_READER},
    Confidentiality.RESTRICTED: {Audience.RESTRICTED_READER},
}


def _record_with(path: str) -> dict[str, Any]:
    record: dict[str, Any] = {}
    node = record
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = "value"
    return record


def _visible(record: dict[str, Any], path: str) -> bool:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("path", sorted(FIELD_CLASSES))
@pytest.mark.parametrize("audience", list(Audience))
def test_each_field_is_seen_only_by_the_audiences_its_level_allows(path: str, audience: Audience) -> None:
    view = redact(_record_with(path), audience)
    allowed = audience in SEES[FIELD_CLASSES[path]]
    assert _visible(view, path) is allowed
    assert (path in view["withheld_fields"]) is not allowed


def test_the_record_follows_domain_md() -> None:
    public = ["developer", "contact", "model_name", "intended_uses", "access_mode", "tier", "base_registry_id"]
    confidential = ["organisation_details", "compute", "training_data", "energy_kwh", "evaluations", "red_teaming"]
    assert {classify(p) for p in public} == {Confidentiality.PUBLIC}
    assert {classify(p) for p in confidential} == {Confidentiality.CONFIDENTIAL}
    assert classify("training_data.public_summary") is Confidentiality.PUBLIC
    assert classify("evaluations.summary") is Confidentiality.PUBLIC
    assert classify("compute.parameters") is Confidentiality.CONFIDENTIAL
    assert classify("security_of_weights") is classify("narrative") is Confidentiality.RESTRICTED


def test_unknown_fields_are_confidential() -> None:
    assert classify("something_new") is Confidentiality.CONFIDENTIAL
    assert "something_new" not in redact({"something_new": 1}, Audience.PUBLIC)


def test_a_public_part_of_a_confidential_group_stays_visible() -> None:
    record = {"training_data": {"token_count": 1e13, "public_summary": "web text"}}
    assert redact(record, Audience.PUBLIC) == {
        "training_data": {"public_summary": "web text"},
        "withheld_fields": ["training_data.token_count"],
    }


def test_restricted_fields_are_split_off_before_storage() -> None:
    clear, restricted = split_restricted({"model_name": "m", "security_of_weights": "HSM", "narrative": None})
    assert restricted == {"security_of_weights": "HSM"}
    assert clear == {"model_name": "m", "narrative": None, "restricted_fields": ["security_of_weights"]}
