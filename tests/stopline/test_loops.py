"""A process's loops: one that dies takes the others down and is reported, never silent."""

from __future__ import annotations

import logging
import threading

import pytest

from pipeline.bus import DEAD_LETTER_TOPIC
from pipeline.bus.memory import MemoryBus
from pipeline.events import Event
from stopline.loops import LoopDied, Loops


def test_a_loop_that_raises_stops_the_others_and_join_says_which(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop, cameras = threading.Event(), threading.Event()
    bus = MemoryBus()
    healthy = bus.subscribe("citations.approved", "notify", lambda _event: None)
    # A dead-letter handler that fails cannot dead-letter again: its consumer raises.
    broken = bus.subscribe(DEAD_LETTER_TOPIC, "audit", _fail)
    bus.publish_raw("violations", "k", b"not json")
    letters = bus.subscribe("violations", "identify", lambda _event: None)
    letters.poll(1.0)  # the bad message becomes a dead letter

    loops = Loops([healthy.run, broken.run], stop, also_stop=cameras).start()
    with pytest.raises(LoopDied, match="consumer of 'dead_letter' \\(group 'audit'\\) died"):
        loops.join()  # returns only because the failure stopped the healthy consumer too

    assert stop.is_set() and cameras.is_set()
    assert any(
        r.levelno == logging.ERROR and "consumer of 'dead_letter'" in r.getMessage()
        for r in caplog.records
    )
    for consumer in (healthy, broken, letters):
        consumer.close()
    bus.close()


def test_loops_that_return_join_quietly() -> None:
    stop = threading.Event()
    ran: list[str] = []
    loops = Loops([lambda s: ran.append("a"), lambda s: ran.append("b")], stop).start()
    loops.join()
    assert sorted(ran) == ["a", "b"] and not stop.is_set()


def _fail(_event: Event) -> None:
    raise ValueError("audit store unavailable")
