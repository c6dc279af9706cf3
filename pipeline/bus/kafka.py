"""Kafka backend (kafka-python 3.x) for stages that run as their own worker processes.

Publishing waits for the broker's acknowledgement (acks="all") so that a handler which publishes
and then returns never gets its input committed before its output is durable. Consumers commit
by hand, one message at a time, right after it was handled or dead-lettered.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from pipeline.bus.base import Bus, Consumer, Handler

log = logging.getLogger("pipeline.bus")

_PUBLISH_TIMEOUT_S = 30.0
IDLE_CHECK_S = 0.1
"""How often an idle consumer with partitions asks again. kafka-python waits inside `poll()` by
fetching in a loop, which against a broker that answers an empty fetch at once took a whole
core per idle consumer (issue 18); a sleep between non-blocking polls costs ~2 % of a core, and
a message that arrives on an idle bus waits up to ~0.1 s longer (benchmarks/bench_bus.py).
Without partitions (joining, or rebalancing) polls block: a group join needs them."""


class KafkaBus(Bus):
    """Topics are created on first use so a fresh cluster needs no provisioning step."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "stopline",
        num_partitions: int = 3,
        replication_factor: int = 1,
        retry_backoff_s: float = 0.1,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_records: int = 10,
        max_poll_interval_ms: int = 30_000,
        security: Mapping[str, Any] | None = None,
        instance_id: str | None = None,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._instance_id = instance_id
        self._client_id = client_id
        self._security = dict(security or {})
        self._num_partitions = num_partitions
        self._replication_factor = replication_factor
        self._retry_backoff_s = retry_backoff_s
        self._consumer_config = {
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
            "max_poll_records": max_poll_records,
            # Also how long a group's rebalance waits for a member that stopped answering: a
            # SIGKILLed worker's replacement got no partitions for kafka-python's default 5 min
            # (issue 18). A batch of `max_poll_records` must be handled within it.
            "max_poll_interval_ms": max_poll_interval_ms,
        }
        self._admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers, client_id=client_id, **self._security
        )
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, acks="all", **self._security
        )
        self._known_topics: set[str] = set()
        self._lock = threading.Lock()
        self._consumers: list[KafkaBusConsumer] = []

    def publish_raw(self, topic: str, key: str, value: bytes | None) -> None:
        self._ensure_topic(topic)
        future = self._producer.send(topic, key=key.encode(), value=value)
        future.get(timeout=_PUBLISH_TIMEOUT_S)

    def subscribe(
        self, topic: str, group: str, handler: Handler, *, max_attempts: int = 3
    ) -> KafkaBusConsumer:
        # Subscribing to a missing topic would leave the consumer with no partitions.
        self._ensure_topic(topic)
        kafka_consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Static membership (KIP-345): a SIGKILLed worker's replacement, restarted with the
            # same id, takes over its partitions; a new dynamic member got none (issue 18).
            group_instance_id=f"{self._instance_id}.{topic}" if self._instance_id else None,
            **self._consumer_config,
            **self._security,
        )
        kafka_consumer.subscribe([topic])
        consumer = KafkaBusConsumer(
            self, kafka_consumer, topic, group, handler, max_attempts, self._retry_backoff_s
        )
        with self._lock:
            self._consumers.append(consumer)
        return consumer

    def close(self) -> None:
        with self._lock:
            consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.close()
        self._producer.close()
        self._admin.close()

    def _ensure_topic(self, topic: str) -> None:
        with self._lock:
            if topic in self._known_topics:
                return
            with contextlib.suppress(TopicAlreadyExistsError):
                self._admin.create_topics(
                    {
                        topic: {
                            "num_partitions": self._num_partitions,
                            "replication_factor": self._replication_factor,
                        }
                    },
                    wait_for_metadata=True,
                )
            self._known_topics.add(topic)

    def _forget(self, consumer: KafkaBusConsumer) -> None:
        with self._lock:
            if consumer in self._consumers:
                self._consumers.remove(consumer)


class KafkaBusConsumer(Consumer):
    """Wraps one KafkaConsumer; like it, not safe to share between threads."""

    def __init__(
        self,
        bus: KafkaBus,
        kafka_consumer: KafkaConsumer,
        topic: str,
        group: str,
        handler: Handler,
        max_attempts: int,
        retry_backoff_s: float,
    ) -> None:
        super().__init__(bus, topic, group, handler, max_attempts, retry_backoff_s)
        self._kafka_bus = bus
        self._consumer = kafka_consumer
        self._closed = False

    def poll(self, timeout_s: float) -> int:
        if self._closed:
            raise RuntimeError("consumer is closed")
        deadline = time.monotonic() + timeout_s
        while True:
            left = max(deadline - time.monotonic(), 0.0)
            if not self._consumer.assignment():  # joining the group needs blocking polls
                batches = self._consumer.poll(timeout_ms=int(left * 1000))
                break
            batches = self._consumer.poll(timeout_ms=0)
            if batches or left <= 0:
                break
            time.sleep(min(IDLE_CHECK_S, left))
        pending = [record for records in batches.values() for record in records]
        handled = 0
        try:
            for record in pending:
                key = None if record.key is None else record.key.decode(errors="backslashreplace")
                self._process(key, record.value)
                tp = TopicPartition(record.topic, record.partition)
                try:
                    self._consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
                except CommitFailedError as exc:
                    # The group rebalanced under us: the message will be redelivered, and the
                    # rest of this batch may now belong to another member.
                    log.warning("commit failed topic=%s group=%s: %s", self.topic, self.group, exc)
                    self._rewind(pending[handled:])
                    return handled
                handled += 1
        except BaseException:
            self._rewind(pending[handled:])
            raise
        return handled

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._consumer.close(autocommit=False)
        self._kafka_bus._forget(self)

    def _rewind(self, unhandled: list[ConsumerRecord]) -> None:
        """Seek back to the first unhandled record per partition so this consumer sees it again.

        Without this, a consumer that keeps polling after an escaped exception would skip the
        rest of its fetched batch until the next restart.
        """
        assigned = self._consumer.assignment()
        first: dict[TopicPartition, int] = {}
        for record in unhandled:
            tp = TopicPartition(record.topic, record.partition)
            first.setdefault(tp, record.offset)
        for tp, offset in first.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)
