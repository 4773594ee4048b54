"""How a batch read from Kafka is applied: each key in order, keys concurrently, failures stop only their key.

Applying one message (inbox, handler, transaction) is replaced by a recorder here: what is under test is the
scheduling around it. The real path, on PostgreSQL and Kafka, is in the integration tests.
"""

from __future__ import annotations

import asyncio

import pytest

from services.plumbing.inbox import Disposition, EventConsumer, IncomingMessage
from services.verification.settings import VerificationSettings

pytestmark = pytest.mark.unit


class RecordingConsumer(EventConsumer):
    def __init__(self, *, delay: float = 0.01, fail_on: set[int] | None = None) -> None:
        super().__init__(None, consumer="test", dead_letter_topic="dl", subscriptions={})  # type: ignore[arg-type]
        self.delay = delay
        self.fail_on = fail_on or set()
        self.started: list[int] = []
        self.finished: list[int] = []
        self.running = 0
        self.most_at_once = 0
        self.in_flight_seen: list[int] = []

    async def _process_traced(self, message: IncomingMessage) -> Disposition:
        self.started.append(message.offset)
        self.in_flight_seen.append(sum(self.in_flight.values()))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.delay)
            if message.offset in self.fail_on:
                raise OSError("database unreachable")
        finally:
            self.running -= 1
        self.finished.append(message.offset)
        return Disposition.PROCESSED


def _message(offset: int, key: str | None, topic: str = "t") -> IncomingMessage:
    return IncomingMessage(
        topic=topic, partition=0, offset=offset, key=key.encode() if key else None, value=b"", headers={}
    )


async def test_each_key_in_order_and_keys_at_the_same_time() -> None:
    consumer = RecordingConsumer()
    batch = [_message(0, "A"), _message(1, "B"), _message(2, "A"), _message(3, "C", "other"), _message(4, "A")]
    outcomes = await consumer.process_batch(batch, parallelism=4)
    assert outcomes == [Disposition.PROCESSED] * 5
    a_order = [o for o in consumer.finished if o in (0, 2, 4)]
    assert a_order == [0, 2, 4]
    assert consumer.most_at_once == 3  # A, B and C together
    assert sum(consumer.in_flight.values()) == 0


async def test_parallelism_bounds_how_many_keys_run_at_once() -> None:
    consumer = RecordingConsumer()
    await consumer.process_batch([_message(i, f"k{i}") for i in range(10)], parallelism=2)
    assert consumer.most_at_once == 2 and sorted(consumer.finished) == list(range(10))


async def test_the_same_key_on_two_topics_is_never_applied_at_once() -> None:
    consumer = RecordingConsumer()
    await consumer.process_batch([_message(0, "A", "filings"), _message(1, "A", "outcomes")], parallelism=4)
    assert consumer.most_at_once == 1 and consumer.finished == [0, 1]


async def test_messages_without_a_key_keep_their_partition_order() -> None:
    consumer = RecordingConsumer()
    await consumer.process_batch([_message(0, None), _message(1, None), _message(2, None)], parallelism=4)
    assert consumer.finished == [0, 1, 2] and consumer.most_at_once == 1


async def test_the_whole_batch_counts_as_in_flight_until_each_is_applied() -> None:
    consumer = RecordingConsumer()
    await consumer.process_batch([_message(0, "A"), _message(1, "A"), _message(2, "A")], parallelism=1)
    assert consumer.in_flight_seen == [3, 2, 1]  # lag reported meanwhile includes what waits in the batch
    assert consumer.in_flight == {"t": 0}


async def test_a_failure_stops_its_key_the_others_finish_then_it_is_raised() -> None:
    consumer = RecordingConsumer(fail_on={2})
    batch = [_message(0, "A"), _message(1, "B"), _message(2, "A"), _message(3, "B"), _message(4, "A")]
    with pytest.raises(OSError, match="database unreachable"):
        await consumer.process_batch(batch, parallelism=4)
    assert 4 not in consumer.started  # A stopped at its failure: the batch will be delivered again
    assert {1, 3} <= set(consumer.finished)  # B finished
    assert sum(consumer.in_flight.values()) == 0


async def test_one_message_goes_through_the_same_path() -> None:
    consumer = RecordingConsumer()
    assert await consumer.process(_message(7, "A")) is Disposition.PROCESSED
    assert consumer.finished == [7] and consumer.in_flight == {"t": 0}


async def test_a_cancelled_batch_leaves_nothing_counted_in_flight() -> None:
    consumer = RecordingConsumer(delay=10)
    batch = asyncio.create_task(consumer.process_batch([_message(i, f"k{i}") for i in range(6)], parallelism=2))
    await asyncio.sleep(0.05)  # two running, four waiting for a slot
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    assert sum(consumer.in_flight.values()) == 0


def test_parallelism_must_leave_database_connections_for_requests() -> None:
    with pytest.raises(ValueError, match=r"consumer_parallelism \(10\) must be below db_pool_max \(10\)"):
        VerificationSettings.from_env({"CONSUMER_PARALLELISM": "10"})
    assert VerificationSettings.from_env({"CONSUMER_PARALLELISM": "9"}).consumer_parallelism == 9
