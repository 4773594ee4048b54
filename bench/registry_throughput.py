"""Push N filings through all four services and print filings/s and submission-to-decision latency.

Starts its own stack (Kafka, PostgreSQL, the four services as subprocesses) in .state/bench on ports that do
not collide with `./dev up` or the tests, runs R rounds of N registrations at concurrency C, and prints each
round and the medians. Latency is from intake accepting a filing to enforcement recording its decision (both
clocks are this machine's). Usage:
    ./dev shell -c 'python bench/registry_throughput.py --filings 300 --rounds 3 --concurrency 16'
or  .venv/bin/python bench/registry_throughput.py [--compare]
--compare alternates every round with the consumers applying one message at a time (batch 1, no parallelism:
how they worked before batching) and prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "deploy")]

from devstack import Infrastructure, TopicSpec, ensure_topics, start_infrastructure, stop_infrastructure  # noqa: E402
from devstack.services import (  # noqa: E402
    SERVICE_NAMES,
    auth_dir,
    start_service,
    stop_services,
    wait_ready,
)
from registry_contracts import ALL_TOPICS  # noqa: E402
from services.plumbing.tokens import generate_keypair, issue_token  # noqa: E402

STATE = ROOT / ".state" / "bench"
PORTS = {"intake": 38101, "verification": 38102, "evaluations": 38103, "enforcement": 38104}


def filing(index: int, run: str) -> dict[str, object]:
    parameters, tokens = 70e9, 15e12
    understated = 10.0 if index % 4 == 0 else 1.0  # a quarter become enforcement cases
    return {
        "developer": {
            "organisation_id": f"bench-{run}-{index % 20}",
            "legal_name": f"Bench Org {index % 20}",
            "country": "GB",
        },
        "model_name": f"bench-model-{run}-{index}",
        "compute": {
            "declared_training_flop": 6 * parameters * tokens / understated,
            "parameters": parameters,
            "training_tokens": tokens,
        },
    }


async def one_round(database_url: str, *, filings: int, concurrency: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    semaphore = asyncio.Semaphore(concurrency)
    registry_ids: list[str] = []
    private_key, _ = generate_keypair(auth_dir(STATE))
    registrant_headers = {
        f"bench-{run}-{n}": {
            "Authorization": "Bearer "
            + issue_token(
                private_key.read_bytes(), subject="bench", roles=["registrant"], organisation_id=f"bench-{run}-{n}"
            )
        }
        for n in range(20)
    }
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORTS['intake']}", timeout=30) as client:

        async def submit(index: int) -> None:
            async with semaphore:
                body = filing(index, run)
                headers = registrant_headers[body["developer"]["organisation_id"]]  # type: ignore[index]
                response = await client.post("/v1/registrations", json=body, headers=headers)
                response.raise_for_status()
                registry_ids.append(response.json()["registry_id"])

        started = time.perf_counter()
        await asyncio.gather(*(submit(i) for i in range(filings)))
        accepted_seconds = time.perf_counter() - started
    conn = await asyncpg.connect(database_url)
    try:
        while (  # noqa: ASYNC110 - polling the database is the point
            await conn.fetchval("SELECT count(*) FROM enforcement.decisions WHERE registry_id = ANY($1)", registry_ids)
            < filings
        ):
            await asyncio.sleep(0.05)
        decided_seconds = time.perf_counter() - started
        rows = await conn.fetch(
            "SELECT extract(epoch FROM d.decided_at - v.submitted_at) AS seconds FROM enforcement.decisions d"
            " JOIN intake.model_versions v ON v.registry_id = d.registry_id WHERE d.registry_id = ANY($1)",
            registry_ids,
        )
    finally:
        await conn.close()
    latencies = sorted(float(r["seconds"]) * 1000 for r in rows)
    return {
        "accepted_per_s": filings / accepted_seconds,
        "end_to_end_per_s": filings / decided_seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1],
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


CONFIGURATIONS = {
    "as configured": {},
    # What the consumers did before batching: one message at a time, one offset commit per message.
    "one at a time": {"CONSUMER_BATCH_SIZE": "1", "CONSUMER_PARALLELISM": "1"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filings", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--compare", action="store_true", help="alternate each round with consumers applying one message at a time"
    )
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    os.environ.setdefault("KAFKA_LIBS_DIR", str(ROOT / ".state" / "kafka" / "libs"))
    stop_services(STATE)
    stop_infrastructure(STATE)
    shutil.rmtree(STATE, ignore_errors=True)
    infra = start_infrastructure(STATE, kafka_port=39092, kafka_controller_port=39093, postgres_port=35432)
    specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
    asyncio.run(ensure_topics(infra.bootstrap_servers, specs))
    configurations = list(CONFIGURATIONS.items()) if args.compare else list(CONFIGURATIONS.items())[:1]
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in configurations}
    try:
        for index in range(args.rounds):
            for label, env in configurations:
                start_stack(infra, env)
                asyncio.run(one_round(infra.database_url, filings=20, concurrency=args.concurrency))  # warm-up
                result = asyncio.run(one_round(infra.database_url, filings=args.filings, concurrency=args.concurrency))
                results[label].append(result)
                print(
                    f"round {index + 1} ({label}): " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()), flush=True
                )
                if len(configurations) > 1:
                    stop_services(STATE)  # the next configuration starts its own
        medians = {
            label: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]} for label, rounds in results.items()
        }
        for label, median in medians.items():
            print(
                f"median of {args.rounds} rounds of {args.filings} filings at concurrency {args.concurrency}"
                f" ({label}): " + ", ".join(f"{k} {v:.1f}" for k, v in median.items())
            )
        if args.compare:
            batched, single = medians["as configured"], medians["one at a time"]
            print(
                f"end-to-end ratio {batched['end_to_end_per_s'] / single['end_to_end_per_s']:.2f}x,"
                f" p50 latency ratio {batched['p50_ms'] / single['p50_ms']:.2f}x (as configured / one at a time)"
            )
    finally:
        if not args.keep:
            stop_services(STATE)
            stop_infrastructure(STATE)
    return 0


def start_stack(infra: Infrastructure, env: dict[str, str]) -> None:
    processes = [
        start_service(
            name,
            state_dir=STATE,
            database_url=infra.database_url,
            bootstrap_servers=infra.bootstrap_servers,
            port=PORTS[name],
            extra_env={"LOG_LEVEL": "WARNING", **env},
        )
        for name in SERVICE_NAMES
    ]
    wait_ready(processes)


if __name__ == "__main__":
    raise SystemExit(main())
