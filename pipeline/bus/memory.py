"""In-process bus: the embedded default, and the reference the Kafka backend is tested against.

Messages are stored as bytes, not objects, so parsing and dead-lettering behave exactly as they
do over the network. Each topic is one ordered log (so per-key order holds trivially), and each
consumer group keeps one committed offset per topic inside the bus: a consumer closed without
committing and re-created on the same bus starts from that offset again, which is how a crash
is modelled.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from pipeline.bus.base import Bus, Consumer, Handler


class MemoryBus(Bus):
    """Thread-safe for publishers; one open consumer per group and topic at a time."""

    def __init__(self, *, retry_backoff_s: float = 0.1) -> None:
        self._retry_backoff_s = retry_backoff_s
        self._cond = threading.Condition()
        self._logs: defaultdict[str, list[tuple[str, bytes | None]]] = defaultdict(list)
        self._committed: dict[tuple[str, str], int] = {}
        self._open: dict[tuple[str, str], MemoryConsumer] = {}
        self._closed = False
        self._handed: dict[str, int] = {}
        """Outbox events published but not yet handled by every group: event_id -> offset."""

    def publish_raw(self, topic: str, key: str, value: bytes | None) -> None:
        with self._cond:
            self._check_open()
            self._logs[topic].append((key, None if value is None else bytes(value)))
            self._cond.notify_all()

    def hand_over(self, event_id: str, topic: str, key: str, value: bytes) -> bool:
        """An event on this bus dies with the process until each group has handled it: only
        then may the outbox forget it (a `stopline run` killed between the relay's mark and
        the display stage's handling lost the billboard posts)."""
        with self._cond:
            if event_id not in self._handed:
                self.publish_raw(topic, key, value)
                self._handed[event_id] = len(self._logs[topic]) - 1
            offset = self._handed[event_id]
            groups = {g for g, t in (*self._committed, *self._open) if t == topic}
            if all(self._committed.get((g, topic), 0) > offset for g in groups):
                del self._handed[event_id]
                return True
            return False

    def subscribe(
        self, topic: str, group: str, handler: Handler, *, max_attempts: int = 3
    ) -> MemoryConsumer:
        with self._cond:
            self._check_open()
            if (group, topic) in self._open:
                # Kafka would split partitions between members; one log cannot be split.
                raise RuntimeError(
                    f"group {group!r} already has an open consumer on {topic!r}; close it first"
                )
            consumer = MemoryConsumer(self, topic, group, handler, max_attempts)
            self._open[(group, topic)] = consumer
            return consumer

    def close(self) -> None:
        with self._cond:
            self._closed = True
            consumers = list(self._open.values())
            self._cond.notify_all()
        for consumer in consumers:
            consumer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")

    def _pending(
        self, topic: str, group: str, timeout_s: float
    ) -> tuple[int, list[tuple[str, bytes]]]:
        """Messages after the group's committed offset, waiting up to `timeout_s` for one."""
        with self._cond:
            start = self._committed.get((group, topic), 0)
            self._cond.wait_for(
                lambda: self._closed or len(self._logs[topic]) > start, timeout=max(timeout_s, 0)
            )
            return start, self._logs[topic][start:]

    def _commit(self, consumer: MemoryConsumer, offset: int) -> bool:
        """Commit for a member still in the group; a closed one is fenced off, as in Kafka."""
        with self._cond:
            if self._open.get((consumer.group, consumer.topic)) is not consumer:
                return False
            self._committed[(consumer.group, consumer.topic)] = offset
            return True

    def _leave(self, consumer: MemoryConsumer) -> None:
        with self._cond:
            if self._open.get((consumer.group, consumer.topic)) is consumer:
                del self._open[(consumer.group, consumer.topic)]


class MemoryConsumer(Consumer):
    """Reads from its group's committed offset and commits one message at a time."""

    def __init__(
        self, bus: MemoryBus, topic: str, group: str, handler: Handler, max_attempts: int
    ) -> None:
        super().__init__(bus, topic, group, handler, max_attempts, bus._retry_backoff_s)
        self._memory = bus
        self._closed = False

    def poll(self, timeout_s: float) -> int:
        if self._closed:
            raise RuntimeError("consumer is closed")
        start, messages = self._memory._pending(self.topic, self.group, timeout_s)
        handled = 0
        for offset, (key, value) in enumerate(messages, start):
            if self._closed:
                break
            self._process(key, value)
            if not self._memory._commit(self, offset + 1):
                break
            handled += 1
        return handled

    def close(self) -> None:
        self._closed = True
        self._memory._leave(self)
