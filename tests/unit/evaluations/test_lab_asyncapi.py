"""The committed lab-facing AsyncAPI document is the one the contracts generate."""

from __future__ import annotations

import pytest

from services.evaluations.lab_asyncapi import LAB_ASYNCAPI_PATH, lab_asyncapi_yaml

pytestmark = pytest.mark.unit


def test_the_committed_lab_asyncapi_matches_the_contracts() -> None:
    assert LAB_ASYNCAPI_PATH.read_text(encoding="utf-8") == lab_asyncapi_yaml(), (
        "docs/asyncapi-labs.yaml is stale: run .venv/bin/python -m services.evaluations.lab_asyncapi"
    )


def test_every_reference_resolves_inside_the_document() -> None:
    import yaml

    document = yaml.safe_load(lab_asyncapi_yaml())

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(document):
        target: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"unresolved {ref}"
            target = target[part]
