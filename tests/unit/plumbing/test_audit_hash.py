"""What an audit entry's hash covers: every recorded field, its place in the chain and the previous hash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.plumbing import audit

pytestmark = pytest.mark.unit


def test_an_entry_hash_covers_every_field_and_its_place() -> None:
    entry = {
        "seq": 7,
        "recorded_at": datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        "actor": "alice",
        "action": "read.confidential",
        "subject": "FMR-2026-000001",
        "detail": '{"b": 1, "a": [2]}',
    }
    base = audit.entry_hash(audit.GENESIS, entry, 1)
    assert audit.entry_hash(audit.GENESIS, entry | {"detail": {"a": [2], "b": 1}}, 1) == base  # same JSON
    changed = [
        audit.entry_hash(audit.GENESIS, entry, 2),
        audit.entry_hash(b"\x01" * 32, entry, 1),
        *(
            audit.entry_hash(audit.GENESIS, entry | {field: value}, 1)
            for field, value in [("seq", 8), ("actor", "bob"), ("action", "read.restricted"), ("subject", "x")]
        ),
        audit.entry_hash(audit.GENESIS, entry | {"detail": {"a": [3], "b": 1}}, 1),
        audit.entry_hash(audit.GENESIS, entry | {"recorded_at": datetime(2026, 11, 28, 12, 1, tzinfo=UTC)}, 1),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
