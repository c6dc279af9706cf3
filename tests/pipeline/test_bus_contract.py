"""The bus contract, run unchanged against the memory bus and a real Kafka-protocol broker.

Every wait is a poll loop with a deadline; absence of redelivery is shown by publishing a
sentinel and checking it is the only thing a restarted consumer receives, never by sleeping.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka.errors import KafkaError
from sqlalchemy import create_engine, text

from pipeline.bus import (
    DEAD_LETTER_TOPIC,
    Bus,
    Consumer,
    InMemoryDeduper,
    MemoryBus,
    idempotent,
    kafka_security,
    make_bus,
)
from pipeline.config import BusConfig
from pipeline.events import CitationApproved, DeadLetter, Event, parse_event

pytestmark = pytest.mark.timeout(120)

_DEADLINE_S = 30.0


class Crash(BaseException):
    """Escapes the consumer like a killed process: not retried, not dead-lettered."""


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    if request.param == "memory":
        instance: Bus = MemoryBus(retry_backoff_s=0.01)
    else:
        instance = _kafka_bus(request.getfixturevalue("kafka_bootstrap"))
    yield instance
    instance.close()


def _kafka_bus(bootstrap: str) -> Bus:
    from pipeline.bus.kafka import KafkaBus

    return KafkaBus(
        bootstrap,
        client_id="stopline-test",
        retry_backoff_s=0.01,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        max_poll_records=20,
    )


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _approved(citation_id: str, camera_id: str = "cam-1") -> CitationApproved:
    return CitationApproved(citation_id=citation_id, camera_id=camera_id, reviewer="officer-7")


def _poll_until(consumer: Consumer, done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _DEADLINE_S
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {_DEADLINE_S:.0f} s waiting for {what}")
        consumer.poll(0.2)


def _dead_letters(bus: Bus, source_topic: str, count: int) -> list[DeadLetter]:
    """The dead-letter topic is shared by every test on the broker, so filter by source."""
    letters: list[DeadLetter] = []

    def collect(event: Event) -> None:
        if isinstance(event, DeadLetter) and event.source_topic == source_topic:
            letters.append(event)

    reader = bus.subscribe(DEAD_LETTER_TOPIC, _name("dlq-reader"), collect)
    try:
        _poll_until(reader, lambda: len(letters) >= count, f"{count} dead letters")
    finally:
        reader.close()
    return letters


def test_round_trip_keeps_every_field(bus: Bus) -> None:
    topic, group = _name("approved"), _name("notifier")
    sent = _approved("cit-1")
    bus.publish(topic, "cit-1", sent)
    received: list[Event] = []
    consumer = bus.subscribe(topic, group, received.append)

    _poll_until(consumer, lambda: len(received) == 1, "the event")

    assert type(received[0]) is CitationApproved
    assert received[0] == sent
    assert received[0].model_dump() == sent.model_dump()


def test_run_loop_handles_until_stopped(bus: Bus) -> None:
    topic, group = _name("approved"), _name("display")
    events = [_approved(f"cit-{i}") for i in range(3)]
    received: list[Event] = []
    all_in = threading.Event()

    def handle(event: Event) -> None:
        received.append(event)
        if len(received) == len(events):
            all_in.set()

    consumer = bus.subscribe(topic, group, handle)
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), kwargs={"poll_timeout_s": 0.2})
    worker.start()
    try:
        for event in events:
            bus.publish(topic, "cam-1", event)
        assert all_in.wait(_DEADLINE_S), "run() did not deliver every event"
    finally:
        stop.set()
        worker.join(_DEADLINE_S)
    assert not worker.is_alive()
    assert received == events


def test_failed_handler_is_retried_and_committed_only_after_success(bus: Bus) -> None:
    topic, group = _name("approved"), _name("notifier")
    first, second = _approved("cit-1"), _approved("cit-2")
    bus.publish(topic, "cam-1", first)
    bus.publish(topic, "cam-1", second)
    calls: list[str] = []
    handled: list[str] = []

    def flaky(event: Event) -> None:
        calls.append(event.event_id)
        if calls.count(event.event_id) == 1 and event.event_id == first.event_id:
            raise ConnectionError("sms gateway down")
        handled.append(event.event_id)

    consumer = bus.subscribe(topic, group, flaky, max_attempts=3)
    _poll_until(consumer, lambda: len(handled) == 2, "both events")
    consumer.close()

    assert calls == [first.event_id, first.event_id, second.event_id]
    assert handled == [first.event_id, second.event_id]

    # Both offsets were committed: a restarted member sees only what comes next.
    sentinel = _approved("cit-sentinel")
    bus.publish(topic, "cam-1", sentinel)
    after_restart: list[str] = []
    restarted = bus.subscribe(topic, group, lambda e: after_restart.append(e.event_id))
    _poll_until(restarted, lambda: sentinel.event_id in after_restart, "the sentinel")
    assert after_restart == [sentinel.event_id]


def test_always_failing_handler_dead_letters_and_moves_on(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    topic, group = _name("approved"), _name("notifier")
    poison, good = _approved("cit-poison"), _approved("cit-good")
    bus.publish(topic, "cam-9", poison)
    bus.publish(topic, "cam-9", good)
    attempts: list[str] = []
    handled: list[str] = []

    def handle(event: Event) -> None:
        attempts.append(event.event_id)
        if event.event_id == poison.event_id:
            raise ValueError("template missing\nfor zh-CN")
        handled.append(event.event_id)

    consumer = bus.subscribe(topic, group, handle, max_attempts=3)
    with caplog.at_level(logging.ERROR, logger="pipeline.bus"):
        _poll_until(consumer, lambda: handled == [good.event_id], "the next event")

    assert attempts == [poison.event_id] * 3 + [good.event_id]
    [letter] = _dead_letters(bus, topic, 1)
    assert letter.consumer_group == group
    assert letter.key == "cam-9"
    assert letter.attempts == 3
    assert letter.original_event_id == poison.event_id
    assert letter.error == "ValueError: template missing | for zh-CN"
    assert parse_event(letter.payload) == poison
    assert any(
        "dead-lettered" in r.getMessage() and topic in r.getMessage() for r in caplog.records
    )


def test_unparsable_messages_are_dead_lettered_at_once(bus: Bus) -> None:
    topic, group = _name("approved"), _name("notifier")
    unknown_type = b'{"event_type": "citation.teleported", "event_id": "e-1"}'
    bus.publish_raw(topic, "k1", b"not json")
    bus.publish_raw(topic, "k2", unknown_type)
    bus.publish_raw(topic, "k3", b"\xffnot utf-8")
    bus.publish_raw(topic, "k4", None)  # once stopped a stage for good (issue 18)
    future = _approved("cit-future").model_copy(update={"schema_version": 99})
    bus.publish_raw(topic, "k5", future.to_json())
    good = _approved("cit-good")
    bus.publish(topic, "k6", good)
    handled: list[Event] = []
    consumer = bus.subscribe(topic, group, handled.append)

    _poll_until(consumer, lambda: len(handled) == 1, "the valid event")

    assert handled == [good]
    letters = {letter.key: letter for letter in _dead_letters(bus, topic, 5)}
    assert set(letters) == {"k1", "k2", "k3", "k4", "k5"}
    assert letters["k1"].payload == "not json"
    assert letters["k2"].payload == unknown_type.decode()
    assert letters["k3"].payload == "\\xffnot utf-8"
    assert letters["k4"].payload == ""
    assert "schema_version 99" in letters["k5"].error
    for letter in letters.values():
        assert letter.attempts == 0
        assert letter.original_event_id is None
        assert letter.consumer_group == group
        assert letter.error.startswith("EventError: ")
        assert "\n" not in letter.error


def test_crash_before_commit_redelivers_and_idempotent_handler_applies_once(bus: Bus) -> None:
    topic, group = _name("identified"), _name("citations")
    events = [_approved(f"cit-{i}") for i in range(6)]
    ids = [event.event_id for event in events]
    for event in events:
        bus.publish(topic, "cam-1", event)
    deduper = InMemoryDeduper()
    applied: list[str] = []
    apply = idempotent(lambda e: applied.append(e.event_id), deduper, group)

    before_crash: list[str] = []

    def crash_after_applying_third(event: Event) -> None:
        before_crash.append(event.event_id)
        apply(event)
        if event.event_id == ids[2]:
            raise Crash  # applied and marked, but the offset is never committed

    first = bus.subscribe(topic, group, crash_after_applying_third)
    with pytest.raises(Crash):
        _poll_until(first, lambda: False, "the crash")
    first.close()

    after_restart: list[str] = []

    def record_and_apply(event: Event) -> None:
        after_restart.append(event.event_id)
        apply(event)

    second = bus.subscribe(topic, group, record_and_apply)
    _poll_until(second, lambda: len(after_restart) == 4, "the uncommitted events")

    assert before_crash == ids[:3]
    assert after_restart == ids[2:]  # the in-flight one again, the committed ones not
    assert applied == ids


def test_consumer_that_survives_an_escaped_exception_skips_nothing(bus: Bus) -> None:
    topic, group = _name("approved"), _name("display")
    events = [_approved(f"cit-{i}") for i in range(4)]
    for event in events:
        bus.publish(topic, "cam-1", event)
    deliveries: list[str] = []

    def interrupt_on_second(event: Event) -> None:
        deliveries.append(event.event_id)
        if event.event_id == events[1].event_id and deliveries.count(event.event_id) == 1:
            raise Crash

    consumer = bus.subscribe(topic, group, interrupt_on_second)
    with pytest.raises(Crash):
        _poll_until(consumer, lambda: False, "the interrupt")
    _poll_until(consumer, lambda: len(deliveries) == 5, "the rest of the events")

    ids = [event.event_id for event in events]
    assert deliveries == ids[:2] + ids[1:]


def test_same_key_keeps_publish_order_across_threads_and_retries(bus: Bus) -> None:
    topic, group = _name("violations"), _name("plates")
    keys, per_key = ["cam-a", "cam-b", "cam-c", "cam-d"], 10

    def publish_sequence(key: str) -> None:
        for seq in range(per_key):
            bus.publish(topic, key, _approved(f"{key}:{seq}", camera_id=key))

    publishers = [threading.Thread(target=publish_sequence, args=(key,)) for key in keys]
    for publisher in publishers:
        publisher.start()
    for publisher in publishers:
        publisher.join(_DEADLINE_S)

    failed_once: set[str] = set()
    seen: dict[str, list[int]] = {key: [] for key in keys}

    def handle(event: Event) -> None:
        citation_id = str(event.model_dump()["citation_id"])
        key, seq = citation_id.split(":")
        if citation_id == "cam-b:3" and citation_id not in failed_once:
            failed_once.add(citation_id)
            raise TimeoutError("OCR busy")
        seen[key].append(int(seq))

    consumer = bus.subscribe(topic, group, handle)
    _poll_until(
        consumer, lambda: sum(map(len, seen.values())) == len(keys) * per_key, "every event"
    )

    assert failed_once == {"cam-b:3"}
    assert seen == {key: list(range(per_key)) for key in keys}


def test_memory_bus_refuses_a_second_open_member_of_a_group() -> None:
    bus = MemoryBus()
    first = bus.subscribe("t", "g", lambda e: None)
    with pytest.raises(RuntimeError, match="already has an open consumer"):
        bus.subscribe("t", "g", lambda e: None)
    first.close()
    bus.subscribe("t", "g", lambda e: None).close()
    bus.close()


def test_idempotent_marks_only_after_success() -> None:
    deduper = InMemoryDeduper()
    applied: list[str] = []
    fail = [True]

    def handler(event: Event) -> None:
        if fail[0]:
            raise RuntimeError("db locked")
        applied.append(event.event_id)

    wrapped = idempotent(handler, deduper, "g1")
    event = _approved("cit-1")
    with pytest.raises(RuntimeError):
        wrapped(event)
    assert not deduper.seen("g1", event.event_id)
    fail[0] = False
    wrapped(event)
    wrapped(event)
    assert applied == [event.event_id]
    assert deduper.seen("g1", event.event_id)
    assert not deduper.seen("g2", event.event_id)


def test_make_bus_rejects_bad_settings() -> None:
    assert isinstance(make_bus("memory"), MemoryBus)
    with pytest.raises(ValueError, match="bootstrap_servers"):
        make_bus("kafka")
    with pytest.raises(ValueError, match="unknown bus kind"):
        make_bus("rabbit")  # type: ignore[arg-type]


def test_kafka_security_settings_come_from_the_config_and_the_environment() -> None:
    sasl = BusConfig(
        kind="kafka",
        bootstrap_servers="kafka-1:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="stopline",
        sasl_password_env="STOPLINE_KAFKA_PASSWORD",
        ssl_cafile="/etc/stopline/kafka-ca.pem",
    )
    assert kafka_security(sasl, {"STOPLINE_KAFKA_PASSWORD": "s3cret"}) == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "stopline",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": "/etc/stopline/kafka-ca.pem",
    }
    with pytest.raises(ValueError, match="STOPLINE_KAFKA_PASSWORD is not set"):
        kafka_security(sasl, {})
    assert kafka_security(BusConfig(kind="kafka")) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.kafka
def test_a_tls_client_does_not_talk_to_a_plaintext_broker(kafka_bootstrap: str) -> None:
    """The settings reach the Kafka client: TLS against the test broker's plaintext port fails
    at connection instead of silently sending in the clear. kafka-python's bootstrap_timeout_ms
    (30 s by default) bounds the failed bootstrap; a plaintext client gets in within it."""
    bounded = {"bootstrap_timeout_ms": 5000}
    make_bus(
        "kafka", kafka_bootstrap, security={"security_protocol": "PLAINTEXT", **bounded}
    ).close()
    with pytest.raises(KafkaError, match="Unable to bootstrap"):
        make_bus("kafka", kafka_bootstrap, security={"security_protocol": "SSL", **bounded})


@pytest.mark.kafka
def test_a_member_joining_an_idle_group_shares_its_partitions(kafka_bootstrap: str) -> None:
    """An idle Kafka consumer sleeps between non-blocking polls (issue 18): a rebalance while it
    idles must still complete, and every event reach one of the two members. (The memory bus
    has one consumer per group.)"""
    bus = _kafka_bus(kafka_bootstrap)
    topic, group = _name("approved"), _name("display")
    first_seen: list[Event] = []
    second_seen: list[Event] = []
    first = bus.subscribe(topic, group, first_seen.append)
    bus.publish(topic, "warm-up", _approved("cit-warm-up"))
    _poll_until(first, lambda: len(first_seen) == 1, "the first member's warm-up event")
    second = bus.subscribe(topic, group, second_seen.append)
    events = [_approved(f"cit-{i}", camera_id=f"cam-{i}") for i in range(30)]
    for event in events:
        bus.publish(topic, event.camera_id, event)
    deadline = time.monotonic() + _DEADLINE_S
    while len(first_seen) + len(second_seen) < 31:
        assert time.monotonic() < deadline, "events were stranded by the rebalance"
        first.poll(0.2)
        second.poll(0.2)
    assert {e.event_id for e in first_seen[1:] + second_seen} == {e.event_id for e in events}
    assert second_seen, "the second member got partitions"
    bus.close()


def test_a_handler_whose_database_is_away_pauses_and_loses_nothing(
    bus: Bus, tmp_path: Path
) -> None:
    """A locked database fails every quick retry alike; the message waits for it rather than
    going to the dead-letter topic, and a poison message behind it is still dead-lettered."""
    topic, group = _name("approved"), _name("notifier")
    database = tmp_path / "cases.db"
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 0})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (event_id TEXT PRIMARY KEY)"))
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the database
    good, poison = _approved("cit-good"), _approved("cit-poison")
    attempts: list[str] = []

    def handle(event: Event) -> None:
        attempts.append(event.event_id)
        if event.event_id == poison.event_id:
            raise ValueError("not a case")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO seen VALUES (:id)"), {"id": event.event_id})

    bus.publish(topic, "cam-1", good)
    bus.publish(topic, "cam-1", poison)
    consumer = bus.subscribe(topic, group, handle, max_attempts=3)
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), kwargs={"poll_timeout_s": 0.2})
    worker.start()
    try:
        deadline = time.monotonic() + _DEADLINE_S
        while attempts.count(good.event_id) <= 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert attempts.count(good.event_id) > 4, "the consumer stopped trying"
        assert poison.event_id not in attempts, "the message behind waits its turn"
        holder.execute("ROLLBACK")
        [letter] = _dead_letters(bus, topic, 1)
    finally:
        stop.set()
        worker.join(_DEADLINE_S)
        holder.close()
    assert not worker.is_alive()
    assert letter.original_event_id == poison.event_id
    with engine.connect() as conn:
        assert conn.execute(text("SELECT event_id FROM seen")).scalars().all() == [good.event_id]
    engine.dispose()
