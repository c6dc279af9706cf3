"""Which errors mean a service a stage depends on is down, rather than that its input is bad.

A message that fails because PostgreSQL is restarting, the broker is away or the evidence disk
is full fails the same way on every quick retry; dead-lettering it would lose a good case.
Such errors pause the work instead: the message stays uncommitted (the evidence unwritten) and
is tried again, with a growing wait, until the service is back. Any other error is the
input's own and goes to the dead-letter topic after the usual retries.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("pipeline.outages")

OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
FIRST_WAIT_S = 0.2
MAX_WAIT_S = 5.0
"""The longest pause between tries: a service back after a restart is used within 5 s."""

T = TypeVar("T")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_outage(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from, says a service or the disk is away."""
    for error in _causes(exc):
        if isinstance(error, OperationalError | InterfaceError):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, KafkaError) and error.retriable:
            return True
        if isinstance(error, OSError) and error.errno in OUT_OF_SPACE:
            return True
    return False


class Backoff:
    """Doubling waits from FIRST_WAIT_S to MAX_WAIT_S, reset by the first success."""

    def __init__(self) -> None:
        self.next_s = FIRST_WAIT_S

    def wait(self, stop: threading.Event, what: str, exc: BaseException) -> None:
        log.warning(
            "%s paused: %s: %s; trying again in %.1f s",
            what,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
            self.next_s,
        )
        stop.wait(self.next_s)
        self.next_s = min(self.next_s * 2, MAX_WAIT_S)

    def reset(self) -> None:
        self.next_s = FIRST_WAIT_S


def until_back(work: Callable[[], T], stop: threading.Event, what: str) -> T:
    """`work()`, tried again after each outage until it succeeds; raises its error if `stop`
    is set while the service is still away, or at once for any error that is not an outage."""
    backoff = Backoff()
    while True:
        try:
            return work()
        except Exception as exc:
            if not is_outage(exc) or stop.is_set():
                raise
            backoff.wait(stop, what, exc)
