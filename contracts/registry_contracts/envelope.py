"""The CloudEvents 1.0 envelope every registry event travels in (structured JSON mode).

`subject` is the registry id and also the Kafka key, so one model's events stay in order on one partition.
`correlationid` ties every event caused by one filing together; `causationid` names the event that caused
this one. CloudEvents extension names must be lower-case alphanumeric, hence no underscores.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_BASE = "urn:frontier-registry:schema"


class EventData(BaseModel):
    """Base of every event payload. Subclasses set `event_type` (past tense) and `major` version."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]
    major: ClassVar[int] = 1
    producer: ClassVar[str]

    @classmethod
    def cloudevents_type(cls) -> str:
        return f"registry.{cls.producer}.{cls.event_type}.v{cls.major}"

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_BASE}:{cls.producer}:{cls.event_type}:v{cls.major}"


DataT = TypeVar("DataT", bound=EventData)


class Envelope(BaseModel, Generic[DataT]):
    """CloudEvents 1.0 attributes plus correlation and causation ids, around a typed payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="Unique event id; consumers dedupe on it.")
    source: str = Field(description="URI-reference of the producing service, e.g. /registry/intake.")
    type: str = Field(description="registry.<producer>.<EventName>.v<major>")
    subject: str = Field(min_length=1, description="Registry id of the model; also the Kafka message key.")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: str = Field(min_length=1, description="Id shared by every event caused by one filing.")
    causationid: str | None = Field(default=None, description="Id of the event that caused this one.")
    data: DataT


class RawEnvelope(BaseModel):
    """The envelope with its payload still untyped: what a consumer reads before it knows the type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"]
    id: uuid.UUID
    source: str
    type: str
    subject: str = Field(min_length=1)
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: str = Field(min_length=1)
    causationid: str | None = None
    data: dict[str, Any]


def new_envelope(
    data: DataT,
    *,
    subject: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: uuid.UUID | None = None,
    time: datetime | None = None,
) -> Envelope[DataT]:
    """Wrap a payload in a fresh envelope; the correlation id defaults to the new event's own id."""
    new_id = event_id or uuid.uuid4()
    typed_envelope: Any = Envelope[type(data)]  # type: ignore[misc]  # parametrised at run time
    return typed_envelope(
        id=new_id,
        source=f"/registry/{data.producer}",
        type=data.cloudevents_type(),
        subject=subject,
        time=time or datetime.now(UTC),
        dataschema=data.dataschema(),
        correlationid=correlation_id or str(new_id),
        causationid=causation_id,
        data=data,
    )
