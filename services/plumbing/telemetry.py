"""Traces, structured logs and counters.

Trace context travels in W3C `traceparent` headers: captured when an outbox row is written, sent with the
Kafka message by the relay, and restored by the consumer, so one filing is one trace across services.
Logs are JSON lines carrying the event id, subject and correlation id of the message being handled.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

# Fields every log line of a handled message carries.
log_fields: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_fields", default={})  # noqa: B039

_configured = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a file as JSON lines: enough to inspect and test traces locally."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            parent = span.parent
            lines.append(
                json.dumps(
                    {
                        "name": span.name,
                        "trace_id": f"{ctx.trace_id:032x}" if ctx else None,
                        "span_id": f"{ctx.span_id:016x}" if ctx else None,
                        "parent_id": f"{parent.span_id:016x}" if parent else None,
                        "service": span.resource.attributes.get("service.name"),
                        "start": span.start_time,
                        "end": span.end_time,
                        "attributes": dict(span.attributes or {}),
                    }
                )
            )
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_fields.get(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_telemetry(
    service_name: str, *, log_level: str = "INFO", log_file: str | None = None, traces_file: str | None = None
) -> None:
    """Set up the tracer provider and JSON logging once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if traces_file:
        # Batched in a background thread: spans must not cost the request or the consumer a file write each.
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(traces_file), schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers = handlers
    root.setLevel(log_level.upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def flush_telemetry() -> None:
    """Write out buffered spans (at shutdown; the provider also flushes at interpreter exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(timeout_millis=2000)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The current trace context as W3C headers, to store with an outbox row."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> otel_context.Context:
    return extract(dict(headers))


class Counters:
    """Process-local counters exposed on /metrics (throughput, failures); cheap and lock-free enough."""

    def __init__(self) -> None:
        self._values: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        self._values[name] += amount

    def snapshot(self) -> dict[str, int]:
        return dict(self._values)
