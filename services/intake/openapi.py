"""The committed OpenAPI document of intake: `python -m services.intake.openapi` rewrites it.

A test fails when the committed file and the app disagree, so API changes are always reviewed as a diff.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from services.plumbing.tokens import generate_keypair

from .app import create_app
from .keys import new_restricted_key
from .settings import IntakeSettings

OPENAPI_FILE = Path(__file__).parent / "openapi.json"


def current_openapi() -> dict[str, Any]:
    """The app's OpenAPI document (built with throwaway keys: keys do not change the document)."""
    with tempfile.TemporaryDirectory() as directory:
        _, public_key = generate_keypair(Path(directory))
        settings = IntakeSettings.from_env(
            {},
            auth_public_keys_file=str(public_key),
            intake_restricted_key=new_restricted_key(),
            intake_signing_key_file=str(Path(directory) / "signing.pem"),
        )
        document: dict[str, Any] = create_app(settings).openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OPENAPI_FILE.write_text(render(current_openapi()), encoding="utf-8")
    print(f"wrote {OPENAPI_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
