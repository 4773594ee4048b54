"""One place that wires a service: settings, telemetry, database, migrations, Kafka, relay, consumer, HTTP.

Every service builds its app with `build_service_app`, passing its own migrations, event subscriptions and
API router; clients are created in the lifespan, never at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import asyncpg
from aiokafka.structs import ConsumerRecord
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.security import SASLScram512
from starlette.types import Receive, Scope, Send

from registry_contracts import dead_letter_topic

from . import audit
from .audit import AuditChainer
from .auth import Role, TokenVerifier, load_keys, require
from .db import create_pool, migrate
from .http import ProblemError, install_problem_handlers, install_request_tracing
from .inbox import INFRASTRUCTURE_ERRORS, EventConsumer, IncomingMessage, Subscription
from .metrics import PROMETHEUS_CONTENT_TYPE, Metric, as_json, as_prometheus, wants_prometheus
from .outbox import OutboxRelay, outbox_backlog
from .rule_profile import RuleProfile, load_rule_profile
from .settings import ServiceSettings
from .telemetry import Counters, configure_telemetry, flush_telemetry

log = logging.getLogger(__name__)
PLUMBING_MIGRATIONS = Path(__file__).parent / "migrations"

# A front door answers a hot request from the raw ASGI scope and returns True, or returns False to let the
# framework handle it (and on any failure it returns False, so errors get the framework's problem+json).
FrontDoor = Callable[[Scope, Send], Awaitable[bool]]


class ServiceApp(FastAPI):
    """FastAPI with an optional front door, consulted before the framework's middleware and routing: a
    request it answers costs about what a bare ASGI app costs (the public standing lookup is one)."""

    front_door: FrontDoor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front_door is not None and scope["type"] == "http" and await self.front_door(scope, send):
            return
        await super().__call__(scope, receive, send)


@dataclass
class ServiceState:
    """What a running service holds; handlers and endpoints reach it through `app.state.service`."""

    settings: ServiceSettings
    profile: RuleProfile
    broker: KafkaBroker
    counters: Counters = field(default_factory=Counters)
    pool: asyncpg.Pool | None = None
    consumer: EventConsumer | None = None
    subscriber: Any = None  # FastStream's Kafka subscriber (its aiokafka consumer gives the lag)
    verifier: TokenVerifier | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the service is not started")
        return self.pool


CONSUMER_POLL_MS = 100  # how long an idle consumer waits for messages before it asks again
SubscriptionsFactory = Callable[[ServiceState], Mapping[str, Subscription]]
Hook = Callable[[ServiceState], Awaitable[None]]
MetricsHook = Callable[[ServiceState], Awaitable[Sequence[Metric]]]  # a service's own gauges (case counts...)


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    security = None
    if settings.kafka_security_protocol.startswith("SASL"):
        use_ssl = settings.kafka_security_protocol == "SASL_SSL"
        security = SASLScram512(
            username=settings.kafka_sasl_username or "",
            password=settings.kafka_sasl_password or "",
            # The default context trusts SSL_CERT_FILE, which deployments point at the brokers' CA.
            ssl_context=ssl.create_default_context() if use_ssl else None,
            use_ssl=use_ssl,
        )
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=f"registry-{settings.service_name}",
        enable_idempotence=True,
        acks="all",
        security=security,
        # Topics are provisioned (devstack, the k8s topics job) with their partitions, retention and ACLs; a
        # service creating one would get defaults, and under ACLs it is refused (and logged) anyway.
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
        log_level=logging.DEBUG,  # per-message "Received/Processed" lines only when debugging
    )


async def _raw_body(message: StreamMessage[Any]) -> Any:
    # The consumer parses envelopes itself so that a malformed message can be dead-lettered.
    return message.body


def build_service_app(
    settings: ServiceSettings,
    *,
    migrations: Path,
    topics: Sequence[str],
    subscriptions: SubscriptionsFactory,
    router: APIRouter | None = None,
    on_started: Hook | None = None,
    background: Sequence[Callable[[ServiceState], Coroutine[Any, Any, None]]] = (),
    title: str = "",
    description: str = "",
    version: str = "1.0.0",
    broker: KafkaBroker | None = None,
    extra_metrics: MetricsHook | None = None,
) -> ServiceApp:
    """The service's ASGI app; its lifespan starts and stops everything the service needs."""
    profile = load_rule_profile(settings.rule_profile)
    state = ServiceState(settings=settings, profile=profile, broker=broker or make_broker(settings))
    # Keys are read at build time: a service without them fails to start rather than serve unauthenticated.
    state.verifier = TokenVerifier(
        load_keys(pem_file=settings.auth_public_keys_file, jwks_file=settings.auth_jwks_file),
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )
    name = settings.service_name

    if topics:
        # Read in batches and commit the offsets once per batch, after every message of it is applied: one
        # commit round trip per message was most of a consumer's time (bench/registry_throughput.py).
        subscriber = state.broker.subscriber(
            *topics,
            group_id=name,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            decoder=_raw_body,
            batch=True,
            max_records=settings.consumer_batch_size,
            batch_timeout_ms=CONSUMER_POLL_MS,
        )
        state.subscriber = subscriber

        @subscriber
        async def on_messages(message: KafkaMessage) -> None:
            records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
            assert state.consumer is not None
            incoming = [IncomingMessage.from_record(record) for record in records]
            try:
                await state.consumer.process_batch(incoming, parallelism=settings.consumer_parallelism)
            except INFRASTRUCTURE_ERRORS:
                log.warning("infrastructure failure; the batch will be redelivered", exc_info=True)
                await asyncio.sleep(1.0)  # not a hot loop while the database is away
                raise

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        return await state.broker.publish(value, topic, key=key, headers=headers, no_confirm=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_telemetry(
            name,
            log_level=settings.log_level,
            log_file=settings.log_file,
            traces_file=settings.otel_traces_file,
        )
        state.pool = await create_pool(settings.database_url, schema=name, max_size=settings.db_pool_max)
        await migrate(state.pool, schema=name, directory=PLUMBING_MIGRATIONS, ledger="plumbing_migrations")
        await migrate(state.pool, schema=name, directory=migrations)
        state.consumer = EventConsumer(
            state.pool,
            consumer=name,
            dead_letter_topic=dead_letter_topic(name).name,
            subscriptions=subscriptions(state),
            max_attempts=settings.consumer_max_attempts,
            counters=state.counters,
        )
        relay = OutboxRelay(
            state.pool,
            publish,
            schema=name,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            retention_hours=settings.outbox_retention_hours,
            counters=state.counters,
        )
        await state.broker.start()
        chainer = AuditChainer(state.pool, schema=name, anchor_seconds=settings.audit_anchor_seconds)
        tasks = [asyncio.create_task(relay.run(), name=f"{name}-outbox-relay")]
        tasks.append(asyncio.create_task(chainer.run(), name=f"{name}-audit-chainer"))
        tasks += [asyncio.create_task(job(state), name=f"{name}-{job.__name__}") for job in background]
        if on_started is not None:
            await on_started(state)
        log.info("%s started on port %d", name, settings.port)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await relay.close()
            await state.broker.stop()
            flush_telemetry()
            try:
                async with asyncio.timeout(10):  # not wait_for: on 3.11 it can swallow a cancellation
                    await state.pool.close()
            except TimeoutError:  # a connection still checked out must not hang shutdown
                log.warning("database pool did not close in 10s; terminating it")
                state.pool.terminate()

    app = ServiceApp(
        title=title or f"registry {name}",
        description=description,
        version=version,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry layer would add a second span, metrics and logs to every request;
        # RequestTracingMiddleware already gives the one span a request needs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = state
    install_problem_handlers(app)
    install_request_tracing(app, name)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["operations"], summary="Readiness: database and Kafka reachable")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await state.db.fetchval("SELECT 1")
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"failing: {error}"
        checks["kafka"] = "ok" if await state.broker.ping(timeout=2.0) else "failing"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Counters, consumer lag, outbox backlog, dead letters and the service's own gauges",
        response_model=None,
        responses={200: {"content": {"application/json": {}, PROMETHEUS_CONTENT_TYPE: {}}}},
    )
    async def metrics(
        request: Request,
        output: Literal["json", "prometheus"] | None = Query(
            default=None,
            alias="format",
            description="prometheus: text exposition format; default: JSON, or what the Accept header asks for",
        ),
    ) -> dict[str, Any] | PlainTextResponse:
        collected = await collect_metrics(state)
        if extra_metrics is not None:
            collected.extend(await extra_metrics(state))
        if wants_prometheus(output, request.headers.get("accept", "")):
            return PlainTextResponse(as_prometheus(name, collected), media_type=PROMETHEUS_CONTENT_TYPE)
        answer = {"service": name, **as_json(collected)}
        answer["consumer_lag"]["total"] = sum(answer["consumer_lag"].values())
        return answer

    auditors = [Depends(require(Role.ANALYST, Role.ADMIN))]

    @app.get(
        "/v1/audit",
        tags=["audit"],
        summary="The newest audit entries (filings, decisions, confidential reads)",
        dependencies=auditors,
    )
    async def audit_entries(
        subject: str | None = Query(default=None, max_length=200),
        action: str | None = Query(default=None, max_length=100, description="An action or its prefix: 'read.'"),
        limit: int = Query(default=100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        return await audit.recent(state.db, subject=subject, action=action, limit=limit)

    @app.get(
        "/v1/audit/verify",
        tags=["audit"],
        summary="Recompute the audit chain; the first broken entry, if any; and check an anchor against it",
        dependencies=auditors,
    )
    async def audit_verify(
        position: int | None = Query(default=None, ge=1, description="An anchor's position (AuditAnchored)."),
        entry_hash: str | None = Query(
            default=None, pattern=r"^[0-9a-fA-F]{64}$", description="The anchor's entry_hash, hex."
        ),
    ) -> dict[str, Any]:
        if (position is None) != (entry_hash is None):
            raise ProblemError(422, "Invalid request", "an anchor needs both position and entry_hash")
        anchor = (position, entry_hash) if position is not None and entry_hash is not None else None
        return await audit.verify_chain(state.db, anchor=anchor)

    if router is not None:
        app.include_router(router)
    return app


async def collect_metrics(state: ServiceState) -> list[Metric]:
    """What every service reports about its own plumbing."""
    lag = await consumer_lag(
        getattr(state.subscriber, "consumer", None), state.consumer.in_flight if state.consumer else {}
    )
    return [
        Metric(
            "counters", "Events this process counted since it started.", state.counters.snapshot(), "name", "counter"
        ),
        Metric("consumer_lag", "Messages on a subscribed topic this replica has not applied yet.", lag, "topic"),
        Metric("outbox_backlog", "Events stored but not yet published to Kafka.", await outbox_backlog(state.db)),
        Metric(
            "dead_letters",
            "Messages this service could not apply (kept, and published on its dead-letter topic).",
            await state.db.fetchval("SELECT count(*) FROM dead_letters"),
        ),
    ]


async def consumer_lag(consumer: Any, in_flight: Mapping[str, int]) -> dict[str, int]:
    """Messages this replica has not yet applied, per subscribed topic: those between its position and the
    partition's end in its assigned partitions (a partition not fetched from yet is left out), plus those being
    handled now."""
    lag: dict[str, int] = {topic: count for topic, count in in_flight.items() if count}
    if consumer is None:
        return lag
    partitions = sorted(consumer.assignment())
    try:
        # Asked of the broker: the high watermark a fetch last brought back is stale for a partition whose
        # records are still buffered, which is exactly when there is lag to see.
        async with asyncio.timeout(1.0):
            ends: dict[Any, int | None] = await consumer.end_offsets(partitions)
    except Exception:  # the broker is away or slow: /metrics still answers, from what the fetcher knows
        log.debug("end offsets unavailable; using the fetcher's high watermarks", exc_info=True)
        ends = {partition: consumer.highwater(partition) for partition in partitions}
    for partition in partitions:
        end = ends.get(partition)
        if end is None:
            continue
        try:
            async with asyncio.timeout(0.5):  # a position still being reset must not hold up /metrics
                position = await consumer.position(partition)
        except (TimeoutError, AssertionError):  # AssertionError: revoked by a rebalance meanwhile
            continue
        lag[partition.topic] = lag.get(partition.topic, 0) + max(end - position, 0)
    return lag


def run_service(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve the app with uvicorn in this process (one service per process)."""
    import uvicorn

    uvicorn.run(app, host=settings.http_host, port=settings.port, log_config=None, access_log=False)
