"""What a service publishes on its audit-anchor topic: where its audit chain stood, for anyone to keep.

The audit log's hash chain shows any entry changed or removed before the newest one; removing the newest entries
leaves a shorter chain that still verifies. An anchor published outside the database (this Kafka topic,
retained forever, and wherever auditors copy it) closes that gap: the chain must still hold the anchored entry
with the anchored hash (`GET /v1/audit/verify?position=...&entry_hash=...`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ..envelope import EventData


class AuditAnchored(EventData):
    """A service's audit chain reached this entry, with this hash."""

    event_type: ClassVar[str] = "AuditAnchored"
    producer: ClassVar[str] = "audit"

    service: str = Field(description="Whose audit log: intake, verification, evaluations or enforcement.")
    position: int = Field(ge=1, description="The entry's place in the chain (1 is the first entry).")
    entry_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="The entry's SHA-256 chain hash, hex.")
    anchored_at: datetime
