"""Both AsyncAPI documents pass the official AsyncAPI parser (@asyncapi/parser under tools/asyncapi/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "tools" / "asyncapi" / "validate.sh"
DOCUMENTS = ("docs/asyncapi-labs.yaml", "contracts/registry_contracts/asyncapi.yaml")


def test_the_lab_and_registry_asyncapi_documents_are_valid() -> None:
    assert shutil.which("node") and shutil.which("npm"), "node and npm are needed to validate AsyncAPI documents"
    # One node process for both documents: the parser takes seconds to load.
    run = subprocess.run(
        ["bash", str(VALIDATE), *(str(ROOT / d) for d in DOCUMENTS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"invalid AsyncAPI:\n{run.stdout}\n{run.stderr}"
    for document in DOCUMENTS:
        assert f"{ROOT / document}: valid AsyncAPI" in run.stdout
