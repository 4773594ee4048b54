"""Seed a running registry with demo filings derived from Epoch AI's data (see deploy/demo/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from services.plumbing.tokens import issue_token

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"
DEMO_FILE = DEMO_DIR / "registrations.json"
LABS_FILE = DEMO_DIR / "labs.json"


def demo_registrations() -> list[dict[str, Any]]:
    filings: list[dict[str, Any]] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return [{k: v for k, v in f.items() if not k.startswith("_")} for f in filings]


def _bearer(private_pem: bytes, role: str, **scope: str) -> dict[str, str]:
    token = issue_token(private_pem, subject=f"demo-{role}", roles=[role], **scope)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def seed_demo(intake_url: str, *, private_pem: bytes) -> list[str]:
    """File every demo registration once (idempotent: keyed by model name); returns the registry ids."""
    registry_ids = []
    with httpx.Client(base_url=intake_url, timeout=10) as client:
        for filing in demo_registrations():
            organisation = filing["developer"]["organisation_id"]
            headers = {
                "Idempotency-Key": f"demo-{organisation}-{filing['model_name']}",
                **_bearer(private_pem, "registrant", organisation_id=organisation),
            }
            response = client.post("/v1/registrations", json=filing, headers=headers)
            if response.status_code == 409:  # registered by an earlier `up`
                registry_ids.append(response.json()["registry_id"])
                continue
            response.raise_for_status()
            registry_ids.append(response.json()["registry_id"])
    return registry_ids


def seed_labs(evaluations_url: str, *, private_pem: bytes) -> list[str]:
    """Accredit the demo evaluation labs (PUT is idempotent)."""
    labs: list[dict[str, Any]] = json.loads(LABS_FILE.read_text(encoding="utf-8"))
    with httpx.Client(base_url=evaluations_url, timeout=10, headers=_bearer(private_pem, "admin")) as client:
        for lab in labs:
            client.put(f"/v1/labs/{lab['lab_id']}", json=lab).raise_for_status()
    return [lab["lab_id"] for lab in labs]
