"""Bus throughput and publish-to-handler latency, on the memory backend and on a real broker.

Two ways of loading the bus, because they answer different questions:
- burst: publish every event as fast as `publish` returns while one consumer drains them; the
  rate is what one stage can push through, and the latency includes the queue that builds up.
- one at a time: publish the next event only after the handler saw the previous one; the
  latency is what a single citation waits per hop on an idle bus.

Publisher and consumer share this process (and its GIL), as the embedded `stopline run` does.
When the scheduler puts the two threads on different cores, handing the GIL across cores
roughly halves the memory bus's rate; `taskset -c 0` shows the one-core figure.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Literal

from rich.progress import Progress

from benchmarks.common import (
    argument_parser,
    num,
    percentiles_ms,
    positive_int,
    print_table,
    progress_bar,
    run_benchmark,
    tracked,
    violation_event,
)
from pipeline.bus import Bus, make_bus
from pipeline.events import Event, ViolationDetected
from tests.services import kafka_broker

Backend = Literal["memory", "kafka"]

# The memory bus moves 5000 events in about 0.1 s, too short to average over the scheduling of
# the publisher and consumer threads; Kafka needs a few seconds for stable tails.
DEFAULT_EVENTS: dict[Backend, int] = {"memory": 20_000, "kafka": 5_000}
# Enough to cover the consumer group join and first-use costs (topic metadata, parser).
_WARMUP_EVENTS = 20
_DELIVERY_TIMEOUT_S = 120.0
_POLL_TIMEOUT_S = 0.05
_IDLE_S = 10.0
COLUMNS = (
    *("backend", "mode", "events", "wall s", "events/s", "publish/s"),
    *("p50 ms", "p95 ms", "p99 ms", "max ms"),
)


class Probe:
    """The consumer's handler: stamps each awaited event's arrival on the publisher's clock."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self._pending: set[str] = set()
        self._all_arrived = threading.Event()
        self._lock = threading.Lock()

    def expect(self, events: Sequence[Event]) -> None:
        with self._lock:
            self._pending = {event.event_id for event in events}
            self._all_arrived.clear()

    def publish(self, bus: Bus, topic: str, event: ViolationDetected) -> None:
        # Stamped before the call: the memory bus may run the handler before publish returns.
        self.sent[event.event_id] = time.perf_counter()
        bus.publish(topic, event.camera_id, event)

    def handle(self, event: Event) -> None:
        now = time.perf_counter()
        with self._lock:
            # Only the first delivery counts; a redelivery is not a second event.
            if event.event_id in self._pending:
                self._pending.discard(event.event_id)
                self.arrived[event.event_id] = now
                if not self._pending:
                    self._all_arrived.set()

    def wait(self) -> None:
        if not self._all_arrived.wait(_DELIVERY_TIMEOUT_S):
            raise RuntimeError(
                f"{len(self._pending)} event(s) not delivered within {_DELIVERY_TIMEOUT_S:.0f} s"
            )

    def latencies_s(self, events: Sequence[Event]) -> list[float]:
        return [self.arrived[e.event_id] - self.sent[e.event_id] for e in events]


@dataclass(frozen=True)
class Result:
    backend: Backend
    mode: str
    events: int
    wall_s: float
    publish_s: float | None
    latencies_s: list[float]

    def row(self) -> list[str]:
        p50, p95, p99, worst = percentiles_ms(self.latencies_s)
        publish_rate = "–" if self.publish_s is None else num(self.events / self.publish_s, 0)
        return [
            self.backend,
            self.mode,
            str(self.events),
            num(self.wall_s, 2),
            num(self.events / self.wall_s, 0),
            publish_rate,
            num(p50, 3),
            num(p95, 3),
            num(p99, 3),
            num(worst, 3),
        ]


@contextmanager
def _consuming(bus: Bus, probe: Probe) -> Iterator[str]:
    """A fresh topic with one consumer polling it in a thread, like a stage in `stopline run`.

    Fresh topic and group names keep reruns on an external broker from reading old events.
    """
    topic = f"bench-{uuid.uuid4().hex[:12]}"
    consumer = bus.subscribe(topic, f"{topic}-group", probe.handle, max_attempts=1)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop, _POLL_TIMEOUT_S), daemon=True)
    thread.start()
    try:
        yield topic
    finally:
        stop.set()
        thread.join()
        consumer.close()


def _burst(
    backend: Backend,
    bus: Bus,
    topic: str,
    probe: Probe,
    events: Sequence[ViolationDetected],
    bar: Progress,
) -> Result:
    probe.expect(events)
    start = time.perf_counter()
    for event in tracked(bar, events, f"{backend}: burst"):
        probe.publish(bus, topic, event)
    published = time.perf_counter()
    probe.wait()
    last = max(probe.arrived[e.event_id] for e in events)
    return Result(
        backend=backend,
        mode="burst",
        events=len(events),
        wall_s=last - start,
        publish_s=published - start,
        latencies_s=probe.latencies_s(events),
    )


def _one_at_a_time(
    backend: Backend,
    bus: Bus,
    topic: str,
    probe: Probe,
    events: Sequence[ViolationDetected],
    bar: Progress,
) -> Result:
    start = time.perf_counter()
    for event in tracked(bar, events, f"{backend}: one at a time"):
        probe.expect([event])
        probe.publish(bus, topic, event)
        probe.wait()
    return Result(
        backend=backend,
        mode="one at a time",
        events=len(events),
        wall_s=time.perf_counter() - start,
        publish_s=None,
        latencies_s=probe.latencies_s(events),
    )


def _idle_cpu_share(seconds: float) -> float:
    """Share of one core this process used over `seconds` while its consumer had nothing."""
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - wall)


def bench_backend(backend: Backend, n_events: int, bar: Progress) -> tuple[list[Result], float]:
    """The two loads' results, and the idle consumer's CPU share after them."""
    with ExitStack() as stack:
        bootstrap = stack.enter_context(kafka_broker()) if backend == "kafka" else None
        bus = make_bus(backend, bootstrap, client_id="stopline-bench")
        stack.callback(bus.close)
        probe = Probe()
        topic = stack.enter_context(_consuming(bus, probe))
        warmup = [violation_event(i) for i in range(_WARMUP_EVENTS)]
        probe.expect(warmup)
        for event in warmup:
            probe.publish(bus, topic, event)
        probe.wait()
        results = [
            measure(backend, bus, topic, probe, [violation_event(i) for i in range(n_events)], bar)
            for measure in (_burst, _one_at_a_time)
        ]
        return results, _idle_cpu_share(_IDLE_S)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.bench_bus", __doc__)
    parser.add_argument("--backend", choices=("memory", "kafka", "both"), default="both")
    parser.add_argument(
        "--events",
        type=positive_int,
        default=None,
        help="events per mode and backend (default: "
        + ", ".join(f"{name} {n}" for name, n in DEFAULT_EVENTS.items())
        + ")",
    )
    args = parser.parse_args(argv)
    backends: list[Backend] = ["memory", "kafka"] if args.backend == "both" else [args.backend]

    def body() -> None:
        results: list[Result] = []
        idle: dict[str, float] = {}
        with progress_bar() as bar:
            for backend in backends:
                done, idle[backend] = bench_backend(
                    backend, args.events or DEFAULT_EVENTS[backend], bar
                )
                results += done
        event_bytes = len(violation_event(0).to_json())
        notes = [f"event: ViolationDetected, {event_bytes} bytes of JSON; one consumer thread"]
        notes += [
            f"{name}: the consumer idle for {_IDLE_S:.0f} s used {share:.1%} of a core"
            for name, share in idle.items()
        ]
        if "kafka" in backends:
            notes.append("kafka: KafkaBus defaults (3 partitions, acks=all, commit per message)")
        print_table(
            "pipeline.bus: throughput and publish-to-handler latency",
            COLUMNS,
            [result.row() for result in results],
            label_columns=2,
            notes=notes,
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
