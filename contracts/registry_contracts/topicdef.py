"""What a topic is: name, owner, partitions, retention and the events it carries.

Each producer's events module declares its own topics next to its events (so a new event touches one
module); `topics.py` gathers them into the one definition topic creation and AsyncAPI use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .envelope import EventData

WEEK_MS = 7 * 24 * 3600 * 1000
FOREVER = -1  # filings are the record: keep them; compaction is never safe for an event log


@dataclass(frozen=True)
class TopicDefinition:
    name: str
    producer: str
    description: str
    events: tuple[type[EventData], ...]
    partitions: int = 6
    retention_ms: int = FOREVER
    consumers: tuple[str, ...] = field(default_factory=tuple)
