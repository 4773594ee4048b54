"""The registrant's command line, and offline verification of signed standing answers.

    python -m services.intake.cli submit filing.yaml [--kind registration] [--registry-id FMR-...] [--key K]
    python -m services.intake.cli list
    python -m services.intake.cli show FMR-2026-000042
    python -m services.intake.cli verify answer.json --key registry.pub.pem

REGISTRY_URL (default http://127.0.0.1:8101) and REGISTRY_TOKEN (a bearer token) come from the environment.
`verify` needs neither: it checks an answer with the registry's published public key, offline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .domain.standing import verify_answer

DEFAULT_URL = "http://127.0.0.1:8101"
# Where each kind of filing goes; those about one model need its registry id.
ENDPOINTS = {
    "training_notice": "/v1/training-notices",
    "registration": "/v1/registrations",
    "amendment": "/v1/registrations/{registry_id}/amendments",
    "status_change": "/v1/registrations/{registry_id}/status-changes",
    "incident_report": "/v1/registrations/{registry_id}/incidents",
    "compute_attestation": "/v1/attestations",
    "usage_report": "/v1/usage-reports",
}
# A field only one kind has tells which kind a file is, when it does not say.
TELLTALE_FIELDS = (
    ("model_family", "training_notice"),
    ("compute", "registration"),
    ("description", "amendment"),
    ("markets", "status_change"),
    ("narrative", "incident_report"),
    ("chip_hours", "compute_attestation"),
    ("seen_at", "usage_report"),
)


class CliError(Exception):
    """A problem the user can fix; printed plainly, exit status 1."""


def load_filing(path: Path) -> dict[str, Any]:
    """A filing from a YAML or JSON file (JSON is YAML, so one parser reads both)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CliError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise CliError(f"{path} must hold one filing (a mapping of fields)")
    return document


def infer_kind(filing: dict[str, Any]) -> str:
    """The filing's kind: its `kind` field, else the first telltale field it has."""
    if "kind" in filing and filing["kind"] in ENDPOINTS:
        return str(filing.pop("kind"))
    for field, kind in TELLTALE_FIELDS:
        if field in filing:
            return kind
    raise CliError(f"cannot tell what kind of filing this is; add kind: one of {', '.join(ENDPOINTS)}")


def describe_problem(response: httpx.Response) -> str:
    """A problem+json answer as plain lines: the title, then each bad field and why."""
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    lines = [f"{problem.get('title', 'Error')} (HTTP {response.status_code}): {problem.get('detail', '')}"]
    for error in problem.get("errors", []):
        lines.append(f"  - {error['field']}: {error['reason']}")
    return "\n".join(lines)


def _client() -> httpx.Client:
    headers = {}
    token = os.environ.get("REGISTRY_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=os.environ.get("REGISTRY_URL", DEFAULT_URL), headers=headers, timeout=30)


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise CliError(describe_problem(response))
    return response.json()


def submit(path: Path, *, kind: str | None, registry_id: str | None, idempotency_key: str | None) -> Any:
    filing = load_filing(path)
    kind = kind or infer_kind(filing)
    filing.pop("kind", None) if kind != "amendment" else None
    registry_id = registry_id or filing.pop("registry_id", None) if "{registry_id}" in ENDPOINTS[kind] else registry_id
    if "{registry_id}" in ENDPOINTS[kind] and not registry_id:
        raise CliError(f"a {kind} is about one model: give --registry-id or a registry_id field")
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    with _client() as client:
        return _answer(client.post(ENDPOINTS[kind].format(registry_id=registry_id), json=filing, headers=headers))


def verify(answer_path: Path, key_path: Path) -> tuple[bool, str]:
    try:
        signed = json.loads(answer_path.read_text(encoding="utf-8"))
        key = load_pem_public_key(key_path.read_bytes())
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read the answer or the key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise CliError(f"{key_path} is not an Ed25519 public key")
    return verify_answer(signed, key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.intake.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    submit_parser = commands.add_parser("submit", help="file a filing from a YAML or JSON file")
    submit_parser.add_argument("file", type=Path)
    submit_parser.add_argument("--kind", choices=sorted(ENDPOINTS), help="default: inferred from the fields")
    submit_parser.add_argument("--registry-id", help="the model, for amendments, status changes and incidents")
    submit_parser.add_argument("--key", dest="idempotency_key", help="Idempotency-Key: a retry files once")
    commands.add_parser("list", help="your organisation's models")
    show_parser = commands.add_parser("show", help="a model's current record")
    show_parser.add_argument("registry_id")
    verify_parser = commands.add_parser("verify", help="check a signed standing answer offline")
    verify_parser.add_argument("answer", type=Path)
    verify_parser.add_argument("--key", required=True, type=Path, help="the registry's public key (PEM)")
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            valid, why = verify(args.answer, args.key)
            print(why)
            return 0 if valid else 2
        if args.command == "submit":
            result = submit(
                args.file, kind=args.kind, registry_id=args.registry_id, idempotency_key=args.idempotency_key
            )
        elif args.command == "list":
            with _client() as client:
                result = _answer(client.get("/v1/registrations"))
            for model in result:
                line = f"{model['registry_id']}  v{model['current_version']}  {model['standing']:<26}"
                print(f"{line} {model['model_name']}")
            return 0
        else:
            with _client() as client:
                result = _answer(client.get(f"/v1/registrations/{args.registry_id}"))
    except CliError as error:
        print(error, file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"cannot reach the registry at {os.environ.get('REGISTRY_URL', DEFAULT_URL)}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
