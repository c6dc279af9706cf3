"""The event bus: one contract, an in-process backend and a Kafka backend.

Stages receive a `Bus` from the wiring in `stopline/` and never import a backend directly, so the
same stage code runs embedded (memory) or as a worker against Kafka.
"""

from __future__ import annotations

from typing import Literal

from pipeline.bus.base import DEAD_LETTER_TOPIC, Bus, Consumer, Handler
from pipeline.bus.idempotency import Deduper, InMemoryDeduper, idempotent
from pipeline.bus.memory import MemoryBus

__all__ = [
    "DEAD_LETTER_TOPIC",
    "Bus",
    "Consumer",
    "Deduper",
    "Handler",
    "InMemoryDeduper",
    "MemoryBus",
    "idempotent",
    "make_bus",
]


def make_bus(
    kind: Literal["memory", "kafka"],
    bootstrap_servers: str | None = None,
    client_id: str = "stopline",
) -> Bus:
    """Build the backend named in config; the Kafka client is imported only when asked for."""
    if kind == "memory":
        return MemoryBus()
    if kind == "kafka":
        if not bootstrap_servers:
            raise ValueError("the kafka bus needs bootstrap_servers, e.g. 'localhost:9092'")
        from pipeline.bus.kafka import KafkaBus

        return KafkaBus(bootstrap_servers, client_id=client_id)
    raise ValueError(f"unknown bus kind {kind!r}; expected 'memory' or 'kafka'")
