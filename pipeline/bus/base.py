"""The bus contract shared by the in-process and the Kafka backend.

A stage's code must not know which backend carries its events, so everything that decides
what happens to a message (parse, retry, dead-letter, when to commit) lives here once and the
backends only move bytes and offsets. Delivery is at-least-once: the offset is committed only
after the handler returned or the message was dead-lettered, so handlers must be idempotent by
`event_id` (see `pipeline.bus.idempotency`).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from pipeline.events import DeadLetter, Event, EventError, parse_event
from pipeline.outages import Backoff, is_outage

DEAD_LETTER_TOPIC = "dead_letter"

Handler = Callable[[Event], None]

log = logging.getLogger("pipeline.bus")

_MAX_BACKOFF_S = 2.0
_MAX_ERROR_CHARS = 2000


def _one_line(exc: BaseException) -> str:
    """Pydantic errors span many lines; a dead letter's error must fit in one log line."""
    text = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}"[:_MAX_ERROR_CHARS]


class Bus(ABC):
    """Publishes events to topics and hands out consumers bound to a consumer group."""

    @abstractmethod
    def publish_raw(self, topic: str, key: str, value: bytes | None) -> None:
        """Append bytes to `topic`; returns once the message is durable on this backend.

        Exists so the dead-letter path and tests can write messages that are not events (None:
        a record with no value, which Kafka allows and a consumer must dead-letter).
        """

    def hand_over(self, event_id: str, topic: str, key: str, value: bytes) -> bool:
        """Publish a stored event (the outbox relay); True once this process dying can no
        longer lose it, so the relay may mark it published. A broker holds it from its
        acknowledgement on; the memory bus only once every group has handled it."""
        self.publish_raw(topic, key, value)
        return True

    def publish(self, topic: str, key: str, event: Event) -> None:
        """Publish `event`; messages with the same `key` are consumed in publish order."""
        self.publish_raw(topic, key, event.to_json())

    @abstractmethod
    def subscribe(
        self, topic: str, group: str, handler: Handler, *, max_attempts: int = 3
    ) -> Consumer:
        """Start consuming `topic` as a member of `group`.

        A group that never committed starts at the earliest message. A handler exception
        (any `Exception`) is retried up to `max_attempts` times, then the message is
        dead-lettered. A `BaseException` that is not an `Exception` (KeyboardInterrupt,
        SystemExit) escapes `poll` untouched and leaves the message uncommitted, like a crash.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections; consumers still open are closed without committing."""


class Consumer(ABC):
    """One member of a consumer group on one topic; used from a single thread."""

    def __init__(
        self,
        bus: Bus,
        topic: str,
        group: str,
        handler: Handler,
        max_attempts: int,
        retry_backoff_s: float,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.topic = topic
        self.group = group
        self._bus = bus
        self._handler = handler
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s

    @abstractmethod
    def poll(self, timeout_s: float) -> int:
        """Handle what is available, waiting up to `timeout_s` if nothing is.

        Returns how many messages were handled or dead-lettered (and so committed).
        """

    @abstractmethod
    def close(self) -> None:
        """Leave the group; messages not yet handled stay uncommitted and are redelivered."""

    def run(self, stop: threading.Event, poll_timeout_s: float = 0.5) -> None:
        """Poll until `stop` is set; `poll_timeout_s` bounds how late the stop is noticed.

        The caller still owns `close()`, so it decides when the group membership ends. While
        a service the handler needs is down (`pipeline.outages`) the consumer pauses with the
        message uncommitted and polls it again, with growing waits, until the service is back.
        """
        backoff = Backoff()
        while not stop.is_set():
            try:
                self.poll(poll_timeout_s)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                backoff.wait(stop, f"consumer of {self.topic!r} (group {self.group!r})", exc)
            else:
                backoff.reset()

    def _process(self, key: str | None, value: bytes | None) -> None:
        """Bring one message to a state where its offset may be committed.

        Returns after the handler succeeded or the message was dead-lettered; raises, with
        nothing to commit, when the dead letter could not be published or when a service the
        handler needs is down: retrying that message at once would fail alike, and
        dead-lettering it would lose a good case.
        """
        try:
            event = parse_event(value)
        except EventError as exc:
            self._dead_letter(key, value, exc, attempts=0, event_id=None)
            return
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._handler(event)
                return
            except Exception as exc:
                if is_outage(exc):
                    raise
                if attempt == self._max_attempts:
                    self._dead_letter(key, value, exc, attempts=attempt, event_id=event.event_id)
                    return
                log.warning(
                    "handler failed (attempt %d/%d) topic=%s group=%s event_id=%s: %s",
                    attempt,
                    self._max_attempts,
                    self.topic,
                    self.group,
                    event.event_id,
                    _one_line(exc),
                )
                time.sleep(min(self._retry_backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF_S))

    def _dead_letter(
        self,
        key: str | None,
        value: bytes | None,
        exc: Exception,
        *,
        attempts: int,
        event_id: str | None,
    ) -> None:
        error = _one_line(exc)
        if self.topic == DEAD_LETTER_TOPIC:
            # Dead-lettering a dead letter would loop forever; stop here, uncommitted.
            raise RuntimeError(f"handler of {DEAD_LETTER_TOPIC!r} failed: {error}") from exc
        letter = DeadLetter(
            source_topic=self.topic,
            consumer_group=self.group,
            key=key,
            # A Kafka record may carry no value at all (a tombstone, or a hostile producer).
            payload="" if value is None else value.decode("utf-8", errors="backslashreplace"),
            error=error,
            attempts=attempts,
            original_event_id=event_id,
        )
        self._bus.publish(DEAD_LETTER_TOPIC, key or "", letter)
        log.error(
            "dead-lettered topic=%s group=%s key=%s attempts=%d event_id=%s dead_letter_id=%s: %s",
            self.topic,
            self.group,
            key,
            attempts,
            event_id,
            letter.event_id,
            error,
        )
