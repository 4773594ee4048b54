"""What a consumer publishes on its dead-letter topic for a message it could not process."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ..envelope import EventData


class MessageDeadLettered(EventData):
    """A consumer gave up on a message: unparseable, or still failing after its retries."""

    event_type: ClassVar[str] = "MessageDeadLettered"
    producer: ClassVar[str] = "consumer"

    consumer: str = Field(description="The consumer group that gave up.")
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str = Field(description="The original value, decoded as UTF-8 with replacement characters.")
    headers: dict[str, str] = Field(default_factory=dict)
    error: str = Field(description="Why it could not be processed.")
    attempts: int = Field(ge=1)
    failed_at: datetime
