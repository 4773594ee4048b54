"""Verifications per second through the verification consumer, beside the pure domain's calls per second.

    .venv/bin/python bench/verification_consumer.py [--filings 2000] [--rounds 3] [--keep]

Starts its own Kafka and PostgreSQL in .state/bench-verification (ports 32192/32132, clear of `./dev up`,
the tests and bench/registry_throughput.py), then per round: pre-loads N RegistrationSubmitted events on
intake.filings.v1 (architecture and hardware inputs, 20 organisations each with one attestation on record),
starts the verification app in-process and times until all N outcomes are committed (each run: inbox row,
declaration, attestations read, three estimates, outcome row, outbox row, one transaction) and until the
relay has published them all. Then it times `verify_declared_compute` alone on the same declarations, so the
I/O overhead (Kafka, PostgreSQL, JSON) is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "deploy"), str(ROOT / "contracts")]

from devstack import TopicSpec, ensure_topics, start_infrastructure, stop_infrastructure  # noqa: E402
from devstack.services import auth_dir  # noqa: E402
from registry_contracts import ALL_TOPICS, ComputeInputs, Developer, RegistrationSubmitted, new_envelope  # noqa: E402
from registry_contracts.events.intake import ComputeAttested  # noqa: E402
from services.plumbing.rule_profile import load_rule_profile  # noqa: E402
from services.plumbing.tokens import generate_keypair  # noqa: E402
from services.verification.app import create_app  # noqa: E402
from services.verification.filings import attestation_for_domain, prepare, registration_figures  # noqa: E402
from services.verification.settings import VerificationSettings  # noqa: E402
from services.verification.store import StoredDeclaration  # noqa: E402

STATE = ROOT / ".state" / "bench-verification"
KAFKA_PORT, KAFKA_CONTROLLER_PORT, POSTGRES_PORT = 32192, 32193, 32132
ORGANISATIONS = 20
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def organisation(run: str, n: int) -> Developer:
    return Developer(organisation_id=f"bench-{run}-{n}", legal_name=f"Bench {n} Ltd", country="GB")


def filing(run: str, index: int) -> RegistrationSubmitted:
    understated = 10.0 if index % 4 == 0 else 1.0
    compute = ComputeInputs(
        declared_training_flop=6 * 70e9 * 15e12 / understated,
        parameters=70e9,
        training_tokens=15e12,
        chip_type="NVIDIA H100 SXM5 80GB",
        chip_count=16_000,
        training_hours=1_000,
        training_start=date(2026, 1, 1),
        training_end=date(2026, 3, 1),
        cluster_id="c-1",
    )
    return RegistrationSubmitted(
        registry_id=f"BENCH-{run}-{index:06d}",
        version=1,
        developer=organisation(run, index % ORGANISATIONS),
        model_name=f"bench-{index}",
        compute=compute,
        submitted_at=NOW,
        rule_profile_id="baseline-2026-01",
    )


def attestation(run: str, n: int) -> ComputeAttested:
    return ComputeAttested(
        attestation_id=f"ATT-{run}-{n}",
        provider_id="cloud",
        provider_name="Cloud",
        customer=organisation(run, n),
        chip_type="NVIDIA H100 SXM5 80GB",
        chip_hours=1.6e7,
        period_start=date(2025, 1, 1),  # another run of the organisation: matched, explained, not used
        period_end=date(2025, 2, 1),
        attested_at=NOW,
    )


async def preload(bootstrap: str, run: str, filings: int) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for n in range(ORGANISATIONS):
            attested = attestation(run, n)
            key = f"org:{attested.customer.organisation_id}"
            envelope = new_envelope(attested, subject=key)
            await producer.send("intake.filings.v1", envelope.model_dump_json().encode(), key=key.encode())
        ids: list[str] = []
        for index in range(filings):
            registration = filing(run, index)
            value = new_envelope(registration, subject=registration.registry_id).model_dump_json().encode()
            await producer.send("intake.filings.v1", value, key=registration.registry_id.encode())
            ids.append(registration.registry_id)
        await producer.flush()
        return ids
    finally:
        await producer.stop()


async def consumer_round(settings: VerificationSettings, bootstrap: str, filings: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    ids = await preload(bootstrap, run, filings)
    conn = await asyncpg.connect(settings.database_url)
    app = create_app(settings)
    try:
        started = time.perf_counter()
        async with app.router.lifespan_context(app):
            ready = time.perf_counter()
            while (  # noqa: ASYNC110 - polling the database is the point
                await conn.fetchval("SELECT count(*) FROM verification.verifications WHERE registry_id = ANY($1)", ids)
                < filings
            ):
                await asyncio.sleep(0.05)
            verified = time.perf_counter()
            while await conn.fetchval(  # noqa: ASYNC110
                "SELECT count(*) FROM verification.outbox WHERE published_at IS NULL"
            ):
                await asyncio.sleep(0.05)
            published = time.perf_counter()
            first, last = await conn.fetchrow(
                "SELECT min(verified_at), max(verified_at) FROM verification.verifications WHERE registry_id = ANY($1)",
                ids,
            )
    finally:
        await conn.close()
    steady = (last - first).total_seconds()
    return {
        "start_s": ready - started,
        "verified_per_s": filings / (verified - ready),
        "steady_per_s": (filings - 1) / steady if steady > 0 else float("nan"),
        "published_per_s": filings / (published - ready),
    }


def pure_rate(filings: int, rounds: int) -> float:
    """verify_declared_compute calls/s on the same declarations (and the organisation's attestation)."""
    from services.verification.domain import load_chip_catalogue, verify_declared_compute

    profile, catalogue = load_rule_profile("baseline-2026-01"), load_chip_catalogue()
    run = "pure"
    prepared = []
    for index in range(filings):
        event = filing(run, index)
        cumulative, designated, biological = registration_figures(event)
        stored = StoredDeclaration(
            event.registry_id, 1, event.developer.organisation_id, "registration",
            event.model_dump(mode="json"), cumulative, designated, biological,
        )  # fmt: skip
        prepared.append(
            (prepare(stored).declaration, [attestation_for_domain(attestation(run, index % ORGANISATIONS))])
        )
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for declaration, attestations in prepared:
            verify_declared_compute(declaration, attestations, profile, catalogue)
        rates.append(filings / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filings", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    os.environ.setdefault("KAFKA_LIBS_DIR", str(ROOT / ".state" / "kafka" / "libs"))  # reuse the jars
    stack = start_infrastructure(
        STATE, kafka_port=KAFKA_PORT, kafka_controller_port=KAFKA_CONTROLLER_PORT, postgres_port=POSTGRES_PORT
    )
    try:
        specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
        asyncio.run(ensure_topics(stack.bootstrap_servers, specs))
        _, public_key = generate_keypair(auth_dir(STATE))
        settings = VerificationSettings.from_env(
            {},
            database_url=stack.database_url,
            kafka_bootstrap_servers=stack.bootstrap_servers,
            auth_public_keys_file=str(public_key),
            log_level="WARNING",
        )
        print(f"{args.filings} RegistrationSubmitted per round, {args.rounds} rounds, 2 shared cores")
        results = []
        for number in range(1, args.rounds + 1):
            result = asyncio.run(consumer_round(settings, stack.bootstrap_servers, args.filings))
            results.append(result)
            print(
                f"round {number}: app start {result['start_s']:.1f} s, {result['verified_per_s']:.0f} verified/s"
                f" (steady {result['steady_per_s']:.0f}/s), {result['published_per_s']:.0f} published/s"
            )
        pure = pure_rate(args.filings, args.rounds)
        median = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(
            f"median: consumer {median['verified_per_s']:.0f} verifications/s (steady {median['steady_per_s']:.0f}/s),"
            f" published {median['published_per_s']:.0f}/s; pure verify_declared_compute {pure:,.0f} calls/s"
            f" ({pure / median['verified_per_s']:.0f}x: the rest is Kafka, PostgreSQL and JSON)"
        )
    finally:
        if not args.keep:
            stop_infrastructure(STATE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
