"""The committed OpenAPI document is the app's (regenerate with `python -m services.intake.openapi`)."""

from __future__ import annotations

import pytest

from services.intake.openapi import OPENAPI_FILE, current_openapi, render

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == render(current_openapi()), (
        "services/intake/openapi.json is stale: run `.venv/bin/python -m services.intake.openapi`"
    )
