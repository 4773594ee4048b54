"""/metrics rendering: JSON for people and tests, Prometheus text exposition for scrapers."""

from __future__ import annotations

import pytest

from services.plumbing.metrics import Metric, as_json, as_prometheus, wants_prometheus

pytestmark = pytest.mark.unit

SAMPLE = [
    Metric("counters", "Events counted.", {"consumed_processed": 3, "outbox_published": 5}, "name", "counter"),
    Metric("consumer_lag", "Messages not applied yet.", {"intake.filings.v1": 2}, "topic"),
    Metric("outbox_backlog", "Events not yet published.", 0),
    Metric("ratio", "A float.", 0.25),
]


def test_prometheus_text_has_help_type_and_a_service_label_on_every_sample() -> None:
    assert as_prometheus("intake", SAMPLE) == (
        "# HELP registry_counters_total Events counted.\n"
        "# TYPE registry_counters_total counter\n"
        'registry_counters_total{service="intake",name="consumed_processed"} 3\n'
        'registry_counters_total{service="intake",name="outbox_published"} 5\n'
        "# HELP registry_consumer_lag Messages not applied yet.\n"
        "# TYPE registry_consumer_lag gauge\n"
        'registry_consumer_lag{service="intake",topic="intake.filings.v1"} 2\n'
        "# HELP registry_outbox_backlog Events not yet published.\n"
        "# TYPE registry_outbox_backlog gauge\n"
        'registry_outbox_backlog{service="intake"} 0\n'
        "# HELP registry_ratio A float.\n"
        "# TYPE registry_ratio gauge\n"
        'registry_ratio{service="intake"} 0.25\n'
    )


def test_label_values_and_help_are_escaped() -> None:
    text = as_prometheus("x", [Metric("odd", 'back\\slash\nnewline "quoted"', {'a"b\\c\nd': 1}, "key")])
    assert '# HELP registry_odd back\\\\slash\\nnewline "quoted"' in text  # quotes stay as they are in HELP
    assert 'registry_odd{service="x",key="a\\"b\\\\c\\nd"} 1' in text


def test_special_floats_use_the_format_s_spelling() -> None:
    text = as_prometheus(
        "x", [Metric("f", "h", {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")}, "k")]
    )
    assert 'k="nan"} NaN' in text and 'k="inf"} +Inf' in text and 'k="ninf"} -Inf' in text


def test_json_keeps_families_by_name() -> None:
    assert as_json(SAMPLE) == {
        "counters": {"consumed_processed": 3, "outbox_published": 5},
        "consumer_lag": {"intake.filings.v1": 2},
        "outbox_backlog": 0,
        "ratio": 0.25,
    }


@pytest.mark.parametrize(
    ("parameter", "accept", "prometheus"),
    [
        (None, "", False),  # a person with curl gets JSON
        (None, "application/json", False),
        (None, "text/plain;version=0.0.4;q=0.3,*/*;q=0.1", True),  # Prometheus' scraper
        (None, "application/openmetrics-text;version=1.0.0,text/plain;q=0.5", True),
        (None, "application/json, text/plain, */*", False),  # a browser-ish client that takes JSON
        ("prometheus", "application/json", True),  # the parameter decides
        ("json", "text/plain", False),
    ],
)
def test_the_format_parameter_decides_then_the_accept_header(
    parameter: str | None, accept: str, prometheus: bool
) -> None:
    assert wants_prometheus(parameter, accept) is prometheus
