"""A local token issuer for development and tests (production uses the agency's OIDC provider).

python -m services.plumbing.tokens keygen DIR          # DIR/issuer.pem (private), DIR/issuer.pub.pem
python -m services.plumbing.tokens issue DIR --role registrant --org acme-ai [--sub alice] [--hours 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .auth import Role

DEV_ISSUER = "registry-dev"
DEV_AUDIENCE = "frontier-registry"


def generate_keypair(directory: Path) -> tuple[Path, Path]:
    """Create an Ed25519 signing key once; returns (private, public) PEM paths."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "issuer.pem", directory / "issuer.pub.pem"
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        private_path.chmod(0o600)
        public_path.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return private_path, public_path


def issue_token(
    private_pem: bytes,
    *,
    subject: str,
    roles: list[str],
    organisation_id: str | None = None,
    lab_id: str | None = None,
    hours: float = 8.0,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
) -> str:
    for role in roles:
        Role(role)  # an unknown role fails here, not at the service
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "roles": roles,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + int(hours * 3600),
    }
    if organisation_id:
        claims["org"] = organisation_id
    if lab_id:
        claims["lab"] = lab_id
    key = serialization.load_pem_private_key(private_pem, password=None)
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tokens", description="Local development token issuer.")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="create the signing key pair once")
    keygen.add_argument("directory", type=Path)
    issue = commands.add_parser("issue", help="print a signed token")
    issue.add_argument("directory", type=Path)
    issue.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    issue.add_argument("--org", help="organisation id (registrant, compute_provider)")
    issue.add_argument("--lab", help="lab id (lab)")
    issue.add_argument("--sub", help="subject; defaults to the role and scope")
    issue.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args(argv)
    private_path, public_path = generate_keypair(args.directory)
    if args.command == "keygen":
        print(public_path)
        return 0
    subject = args.sub or f"{args.role[0]}:{args.org or args.lab or 'agency'}"
    print(
        issue_token(
            private_path.read_bytes(),
            subject=subject,
            roles=args.role,
            organisation_id=args.org,
            lab_id=args.lab,
            hours=args.hours,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
