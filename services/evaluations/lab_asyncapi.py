"""`python -m services.evaluations.lab_asyncapi` rewrites docs/asyncapi-labs.yaml from the contracts."""

from __future__ import annotations

from pathlib import Path

import yaml

from registry_contracts.events.evaluations import lab_asyncapi

LAB_ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi-labs.yaml"


def lab_asyncapi_yaml() -> str:
    """The lab-facing AsyncAPI document as YAML (sorted keys, so the committed file is reproducible)."""
    return str(yaml.safe_dump(lab_asyncapi(), sort_keys=True, allow_unicode=True, width=110))


def main() -> None:
    LAB_ASYNCAPI_PATH.write_text(lab_asyncapi_yaml(), encoding="utf-8")
    print(f"wrote {LAB_ASYNCAPI_PATH}")


if __name__ == "__main__":
    main()
