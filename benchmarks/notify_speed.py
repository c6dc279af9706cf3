"""SMS notices from approval to the carrier: messages per second and the delay of each.

In one process, as `stopline run` wires them: a reviewer's approval writes its announcement
into the event outbox (`review.cases.approve`); the relay publishes it to the memory bus; the
notify stage renders the notice and writes the SMS outbox row; the sender hands it to the
http gateway (Twilio Messages API) of a local Twilio-speaking server on loopback
(tests/notifier/twilio_server.py), which notes when each message arrived. The relay and the
sender poll every 0.2 s when idle, as in production.
- approvals/s: how fast notices are approved (0 = all at once, a burst);
- gateway/s: the configured carrier rate limit (`notifier.rate_per_s`);
- msgs/s: messages the carrier received per second, first approval to last message;
- p50 / p95 / max ms: from an approval's commit to its message reaching the carrier.
Goal: p95 <= 1 s at a normal pace.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from benchmarks import review_cases
from benchmarks.bench_store import Backend, _database
from benchmarks.common import (
    argument_parser,
    num,
    percentiles_ms,
    print_table,
    run_benchmark,
    stderr,
)
from notifier.http_gateway import HttpGateway
from notifier.outbox import notice_key
from notifier.sender import Sender
from notifier.stage import NoticeStage
from notifier.templates import NoticeTemplates
from pipeline.bus import MemoryBus
from pipeline.config import NotifierConfig, parse_config
from pipeline.events import CITATIONS_APPROVED
from pipeline.evidence import EvidenceStore
from pipeline.outbox import relay
from pipeline.store import Role, Store, open_store
from pipeline.store.registry import add_user
from review.cases import approve
from stopline.demo.run import DEMO_CONFIG
from tests.notifier.twilio_server import TwilioServer

TOKEN_ENV = "STOPLINE_BENCH_SMS_TOKEN"
COLUMNS = ("backend", "approvals/s", "gateway/s", "n", "msgs/s", "p50 ms", "p95 ms", "max ms")
WAIT_S = 120.0


@contextmanager
def seeded(backend: Backend, notices: int) -> Iterator[tuple[Store, list[str]]]:
    """Pending citations with a keeper to notify (every other seeded case has one)."""
    with _database(backend, durable=True) as url, tempfile.TemporaryDirectory() as folder:
        store = open_store(url)
        try:
            ids = review_cases.seed(store, EvidenceStore(Path(folder)), 2 * notices)
            with store.session() as session:
                add_user(session, "reviewer", "x", Role.REVIEWER)
            yield store, ids[0::2]
        finally:
            store.close()


def run_round(
    backend: Backend, notices: int, approvals_per_s: float, gateway_per_s: float
) -> list[str]:
    base = yaml.safe_load(DEMO_CONFIG.read_text())["notifier"]
    with TwilioServer() as server, seeded(backend, notices) as (store, ids):
        os.environ[TOKEN_ENV] = server.token
        config = parse_config(
            {
                **yaml.safe_load(DEMO_CONFIG.read_text()),
                "notifier": {
                    **base,
                    "gateway": "http",
                    "http_api": "twilio",
                    "url": server.url,
                    "account": server.account,
                    "secret_env": TOKEN_ENV,
                    "sender_id": "+15005550006",
                    "rate_per_s": gateway_per_s,
                },
            },
            "benchmark",
        ).notifier
        approved_at = _pipeline(store, server, config, ids, approvals_per_s)
        by_key = {m.idempotency_key: m.created for m in server.messages}
        delays = [by_key[notice_key(cid)] - at for cid, at in approved_at.items()]
        first = min(approved_at.values())
        last = max(by_key.values())
    p50, p95, _, worst = percentiles_ms(delays)
    return [
        backend,
        num(approvals_per_s, 0) if approvals_per_s else "burst",
        num(gateway_per_s, 0),
        str(len(delays)),
        num(len(delays) / (last - first), 1),
        num(p50, 0),
        num(p95, 0),
        num(worst, 0),
    ]


def _pipeline(
    store: Store,
    server: TwilioServer,
    config: NotifierConfig,
    ids: list[str],
    approvals_per_s: float,
) -> dict[str, float]:
    """Approve `ids` at the pace asked while relay, notify stage and sender run; returns each
    approval's commit time once every message reached the server."""
    bus = MemoryBus()
    stage = NoticeStage(store, config, NoticeTemplates(config), secrets.token_bytes(32))
    consumer = bus.subscribe(CITATIONS_APPROVED, stage.group, stage.handle)
    gateway = HttpGateway(config)
    sender = Sender(store, gateway, config)
    stop = threading.Event()
    workers = [
        threading.Thread(target=relay, args=(store, bus, stop)),
        threading.Thread(target=consumer.run, args=(stop,)),
        threading.Thread(target=sender.run, args=(stop,)),
    ]
    for worker in workers:
        worker.start()
    approved_at: dict[str, float] = {}
    try:
        start = time.monotonic()
        for index, citation_id in enumerate(ids):
            if approvals_per_s:
                time.sleep(max(0.0, start + index / approvals_per_s - time.monotonic()))
            with store.session() as session:
                approve(session, citation_id, "reviewer")
            approved_at[citation_id] = time.monotonic()
        deadline = time.monotonic() + WAIT_S
        while len(server.messages) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        if len(server.messages) < len(ids):
            raise RuntimeError(f"only {len(server.messages)} of {len(ids)} messages arrived")
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        consumer.close()
        gateway.close()
        bus.close()
    return approved_at


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.notify_speed", __doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--notices", type=int, default=200, help="approved citations per round")
    args = parser.parse_args(argv)
    backends: list[Backend] = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    # (approvals per second, carrier rate): a steady pace at the default carrier rate, and a
    # burst that the carrier's rate limit sets the speed of.
    rounds = ((5.0, 10.0), (0.0, 10.0), (0.0, 100.0))

    def body() -> None:
        rows = []
        for backend in backends:
            for pace, rate in rounds:
                stderr.print(f"{backend}: approvals/s {pace or 'burst'}, gateway/s {rate:g}")
                rows.append(run_round(backend, args.notices, pace, rate))
        print_table(
            f"SMS notices: approval -> event outbox -> notify stage -> sender -> HTTP carrier "
            f"({args.notices} per round)",
            COLUMNS,
            rows,
            label_columns=3,
            notes=["carrier: local Twilio Messages API server on loopback"],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
