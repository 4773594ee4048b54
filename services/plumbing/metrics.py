"""What /metrics reports: one list of metrics, rendered as JSON (people, tests) or as Prometheus text
exposition format 0.0.4 (scrapers: Prometheus, the OpenTelemetry collector, Grafana Agent)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "registry_"


@dataclass(frozen=True)
class Metric:
    """One metric family: a single value, or values by one label (`label` names it, e.g. "topic")."""

    name: str  # snake_case, without the registry_ prefix; a counter's Prometheus name gains _total
    help: str
    values: Mapping[str, float] | float
    label: str = ""
    kind: Literal["gauge", "counter"] = "gauge"


def as_json(metrics: Sequence[Metric]) -> dict[str, Any]:
    return {m.name: dict(m.values) if isinstance(m.values, Mapping) else m.values for m in metrics}


def as_prometheus(service: str, metrics: Sequence[Metric]) -> str:
    """Every family with HELP and TYPE lines; each sample carries the service as a label."""
    lines: list[str] = []
    for metric in metrics:
        name = f"{PREFIX}{metric.name}{'_total' if metric.kind == 'counter' else ''}"
        lines.append(f"# HELP {name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {name} {metric.kind}")
        service_label = f'service="{_escape_label(service)}"'
        if isinstance(metric.values, Mapping):
            for key, value in sorted(metric.values.items()):
                lines.append(f'{name}{{{service_label},{metric.label}="{_escape_label(key)}"}} {_number(value)}')
        else:
            lines.append(f"{name}{{{service_label}}} {_number(metric.values)}")
    return "\n".join(lines) + "\n"


def wants_prometheus(format_parameter: str | None, accept: str) -> bool:
    """`?format=prometheus|json` decides; otherwise a scraper's Accept (text/plain or OpenMetrics) does."""
    if format_parameter:
        return format_parameter == "prometheus"
    accepted = accept.lower()
    return "application/json" not in accepted and ("text/plain" in accepted or "openmetrics" in accepted)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
