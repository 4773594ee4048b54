"""`python -m devstack up|down|status|logs`: the whole registry on this machine (see README.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from devstack import kafka_security
from devstack.demo import seed_demo, seed_labs
from devstack.infra import start_infrastructure, stop_infrastructure
from devstack.services import (
    DEFAULT_PORTS,
    SERVICE_NAMES,
    auth_dir,
    services_status,
    start_service,
    stop_services,
    wait_ready,
)
from devstack.topics import TopicSpec, ensure_topics
from registry_contracts import ALL_TOPICS
from services.plumbing import tokens

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    return Path(os.environ.get("REGISTRY_STATE_DIR", PROJECT_ROOT / ".state" / "dev")).resolve()


def topic_specs() -> list[TopicSpec]:
    return [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]


def up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    state = state_dir()
    # The local stack runs Kafka as production does: SASL/SCRAM, one principal per service, ACLs.
    infra = start_infrastructure(state, sasl=not args.plaintext)
    security = "SASL/SCRAM, per-service principals and ACLs" if infra.kafka_admin else "PLAINTEXT"
    print(f"kafka        {infra.bootstrap_servers}  ({security})")
    print(f"postgres     {infra.database_url}")
    admin_options = infra.kafka_admin.aiokafka_options() if infra.kafka_admin else None
    created = asyncio.run(ensure_topics(infra.bootstrap_servers, topic_specs(), client_options=admin_options))
    if created:
        print(f"topics       created {len(created)}")
    processes = [
        start_service(
            name,
            state_dir=state,
            database_url=infra.database_url,
            bootstrap_servers=infra.bootstrap_servers,
            extra_env=kafka_security.service_environment(state, name) if infra.kafka_admin else None,
        )
        for name in SERVICE_NAMES
    ]
    wait_ready(processes)
    for process in processes:
        print(f"{process.name:<13}{process.url}  (pid {process.pid}, log {process.log_path})")
    private_key, _ = tokens.generate_keypair(auth_dir(state))
    if not args.no_demo:
        private_pem = private_key.read_bytes()
        labs = seed_labs(f"http://127.0.0.1:{DEFAULT_PORTS['evaluations']}", private_pem=private_pem)
        print(f"demo         {len(labs)} evaluation labs accredited")
        ids = seed_demo(f"http://127.0.0.1:{DEFAULT_PORTS['intake']}", private_pem=private_pem)
        print(f"demo         {len(ids)} registrations filed, e.g. {ids[0]}")
    print("tokens       ./dev token --role officer   (or --role registrant --org meta-ai, ...)")
    print(f"ready in {time.monotonic() - started:.1f}s; stop with ./dev down; logs in {state / 'logs'}")
    return 0


def down(args: argparse.Namespace) -> int:
    state = state_dir()
    stop_services(state)
    stop_infrastructure(state)
    print("stopped")
    return 0


def status(args: argparse.Namespace) -> int:
    from devstack.kafka import kafka_status
    from devstack.postgres import postgres_status

    state = state_dir()
    report = {"kafka": kafka_status(state), "postgres": postgres_status(state), **services_status(state)}
    print(json.dumps(report, indent=2, default=str))
    return 0


def logs(args: argparse.Namespace) -> int:
    path = state_dir() / "logs" / f"{args.name}.log"
    if not path.exists():
        print(f"no log at {path}", file=sys.stderr)
        return 1
    print("\n".join(path.read_text(errors="replace").splitlines()[-args.lines :]))
    return 0


def token(args: argparse.Namespace) -> int:
    """Print a development bearer token signed by the local issuer the services trust."""
    argv = ["issue", str(auth_dir(state_dir()))]
    for role in args.role:
        argv += ["--role", role]
    argv += ["--org", args.org] if args.org else []
    argv += ["--lab", args.lab] if args.lab else []
    return tokens.main(argv)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description="Run the registry locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start Kafka, PostgreSQL, the four services, and seed demo data")
    up_parser.add_argument("--no-demo", action="store_true", help="do not file the demo registrations")
    up_parser.add_argument(
        "--plaintext", action="store_true", help="Kafka without SASL/ACLs (a state dir keeps its first choice)"
    )
    up_parser.set_defaults(run=up)
    commands.add_parser("down", help="stop everything").set_defaults(run=down)
    commands.add_parser("status", help="what is running").set_defaults(run=status)
    logs_parser = commands.add_parser("logs", help="the end of a log (intake, ..., kafka, postgres)")
    logs_parser.add_argument("name")
    logs_parser.add_argument("-n", "--lines", type=int, default=50)
    logs_parser.set_defaults(run=logs)
    token_parser = commands.add_parser("token", help="print a development bearer token")
    token_parser.add_argument("--role", action="append", required=True, help="registrant, officer, admin, ...")
    token_parser.add_argument("--org", help="organisation id, for registrant and compute_provider")
    token_parser.add_argument("--lab", help="lab id, for lab")
    token_parser.set_defaults(run=token)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
