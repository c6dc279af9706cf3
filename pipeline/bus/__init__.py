"""The event bus: one contract, an in-process backend and a Kafka backend.

Stages receive a `Bus` from the wiring in `stopline/` and never import a backend directly, so the
same stage code runs embedded (memory) or as a worker against Kafka.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.bus.base import DEAD_LETTER_TOPIC, Bus, Consumer, Handler
from pipeline.bus.idempotency import Deduper, InMemoryDeduper, idempotent
from pipeline.bus.memory import MemoryBus
from pipeline.config import BusConfig

__all__ = [
    "DEAD_LETTER_TOPIC",
    "Bus",
    "Consumer",
    "Deduper",
    "Handler",
    "InMemoryDeduper",
    "MemoryBus",
    "idempotent",
    "kafka_security",
    "make_bus",
]


def make_bus(
    kind: Literal["memory", "kafka"],
    bootstrap_servers: str | None = None,
    client_id: str = "stopline",
    security: Mapping[str, Any] | None = None,
    instance_id: str | None = None,
) -> Bus:
    """Build the backend named in config; the Kafka client is imported only when asked for.
    `security`: kafka-python connection settings (`kafka_security`); `instance_id`: static
    group membership (`BusConfig.instance_id`)."""
    if kind == "memory":
        return MemoryBus()
    if kind == "kafka":
        if not bootstrap_servers:
            raise ValueError("the kafka bus needs bootstrap_servers, e.g. 'localhost:9092'")
        from pipeline.bus.kafka import KafkaBus

        return KafkaBus(
            bootstrap_servers, client_id=client_id, security=security, instance_id=instance_id
        )
    raise ValueError(f"unknown bus kind {kind!r}; expected 'memory' or 'kafka'")


def kafka_security(config: BusConfig, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """kafka-python's TLS and SASL settings from the bus config; the SASL password comes from
    the environment variable the config names. Raises ValueError when that is unset."""
    settings: dict[str, Any] = {"security_protocol": config.security_protocol}
    if config.security_protocol.startswith("SASL_"):
        name = config.sasl_password_env
        assert name is not None  # the config's validator requires it
        if not environ.get(name):
            raise ValueError(f"bus.sasl_password_env: the environment variable {name} is not set")
        settings |= {
            "sasl_mechanism": config.sasl_mechanism,
            "sasl_plain_username": config.sasl_username,
            "sasl_plain_password": environ[name],
        }
    files = {"ssl_cafile": config.ssl_cafile, "ssl_certfile": config.ssl_certfile}
    files["ssl_keyfile"] = config.ssl_keyfile
    settings |= {key: str(path) for key, path in files.items() if path is not None}
    return settings
