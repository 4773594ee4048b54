"""The AsyncAPI document of every registry topic, generated from the contracts with FastStream.

Each topic is declared as a publisher of its event envelopes on a broker that never connects; FastStream
renders the channels and message schemas. Needs the `asyncapi` extra.
"""

from __future__ import annotations

from pathlib import Path

from .envelope import Envelope
from .topics import ALL_TOPICS

ASYNCAPI_PATH = Path(__file__).parent / "asyncapi.yaml"


def asyncapi_yaml() -> str:
    from faststream.kafka import KafkaBroker
    from faststream.specification import AsyncAPI

    broker = KafkaBroker("kafka:9092", description="The registry's Kafka cluster")
    for topic in ALL_TOPICS:
        for event in topic.events:
            broker.publisher(
                topic.name,
                title=f"{topic.name}:{event.event_type}",
                description=f"{topic.description} Producer: {topic.producer}. Key: the registry id.",
                schema=Envelope[event],  # type: ignore[valid-type]
            )
    spec = AsyncAPI(
        broker,
        title="Frontier AI model registry events",
        version="1.0.0",
        description="CloudEvents 1.0 envelopes in structured JSON mode; the Kafka key is the envelope subject.",
        schema_version="3.0.0",
    )
    import yaml

    # FastStream's channel order follows internal sets; sorted keys make the committed file reproducible.
    document = spec.to_specification().to_jsonable()
    return str(yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=110))


def write_asyncapi(path: Path = ASYNCAPI_PATH) -> None:
    path.write_text(asyncapi_yaml(), encoding="utf-8")
