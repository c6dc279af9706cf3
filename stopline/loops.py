"""The loops of one process (bus consumers, the relay, senders, screen players) on threads.

A loop that dies must not leave the process alive and quiet: a worker whose `citations.approved`
consumer died still answers its signals but sends no SMS, forever. So a loop that raises is
logged with its traceback, every other loop is told to stop, and `join` raises `LoopDied`, which
the commands turn into one error line and a non-zero exit; the service manager restarts the
process, and the message that was being handled is redelivered (it was never committed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger("stopline.loops")

Loop = Callable[[threading.Event], None]


class LoopDied(RuntimeError):
    """A loop of this process raised; the process must end and be restarted."""


class Loops:
    """Runs each loop on its own thread with `stop`; a failure sets `stop` (and `also_stop`)."""

    def __init__(
        self, loops: Sequence[Loop], stop: threading.Event, also_stop: threading.Event | None = None
    ) -> None:
        self._stop = stop
        self._also_stop = also_stop
        self._failures: list[tuple[str, BaseException]] = []
        self._threads = [
            threading.Thread(target=self._guard, args=(loop,), name=_name(loop), daemon=True)
            for loop in loops
        ]

    def start(self) -> Loops:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        """Wait for every loop to return; raises LoopDied if any of them raised."""
        for thread in self._threads:
            thread.join()
        if self._failures:
            name, exc = self._failures[0]
            raise LoopDied(f"{name} died: {type(exc).__name__}: {exc}") from exc

    def _guard(self, loop: Loop) -> None:
        try:
            loop(self._stop)
        except BaseException as exc:
            name = _name(loop)
            log.exception("%s died; stopping this process's other loops", name)
            self._failures.append((name, exc))
            self._stop.set()
            if self._also_stop is not None:
                self._also_stop.set()


def _name(loop: Loop) -> str:
    owner = getattr(loop, "__self__", None)
    if owner is not None and hasattr(owner, "topic") and hasattr(owner, "group"):
        return f"consumer of {owner.topic!r} (group {owner.group!r})"
    func = getattr(loop, "func", loop)  # functools.partial
    return getattr(func, "__qualname__", repr(func))
