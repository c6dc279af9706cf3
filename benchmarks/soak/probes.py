"""What the soak reads while the pipeline runs: memory and open files from /proc, consumer lags
and topic sizes from Kafka, counts and consistency checks from the database.

/proc rather than psutil: the project does not depend on psutil, and three files per process
are all it takes.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import create_engine, text

from display.stage import DisplayStage
from identify.stage import IdentifyStage
from notifier.stage import NoticeStage
from pipeline.events import (
    CITATIONS_APPROVED,
    CITATIONS_DISMISSED,
    VIOLATIONS,
    VIOLATIONS_IDENTIFIED,
)
from review.policy import AutoReviewer

GROUPS = (
    (IdentifyStage.group, VIOLATIONS),
    (AutoReviewer.group, VIOLATIONS_IDENTIFIED),
    (NoticeStage.group, CITATIONS_APPROVED),
    (DisplayStage.group, CITATIONS_APPROVED),
    (DisplayStage.recall_group, CITATIONS_DISMISSED),
)
"""Every consumer group of the worker stages and the topic it reads."""

# --- processes ---------------------------------------------------------------------------


def _field_kib(path: str, name: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0  # a kernel thread, or a process that is exiting, has no memory lines


def _parents() -> dict[int, int]:
    """Parent of every process now running."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # exited meanwhile
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def listener(port: int) -> int:
    """The process listening on TCP `port`: the socket's inode in /proc/net, then whose fd it is."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for pid in _parents():
        try:
            fds = os.scandir(f"/proc/{pid}/fd")
            if any(os.readlink(fd.path) in inodes for fd in fds):
                return pid
        except OSError:
            continue
    raise LookupError(f"no process listens on port {port}")


@dataclass(frozen=True)
class Watched:
    """A process the soak samples. For a `server` (PostgreSQL: a postmaster and a backend per
    connection) memory is the PSS of it and every descendant: each backend maps the same shared
    buffers, so their RSS added up would count that memory once per backend. Its open files are
    its own: the backends' come and go with the pools' connections, which are counted instead."""

    name: str
    pid: int
    server: bool = False

    def sample(self) -> tuple[float, int] | None:
        """(memory MiB, open files), or None once the process is gone."""
        try:
            fds = len(os.listdir(f"/proc/{self.pid}/fd"))
            if not self.server:
                return _field_kib(f"/proc/{self.pid}/status", "VmRSS") / 1024, fds
            kib = _field_kib(f"/proc/{self.pid}/smaps_rollup", "Pss")
        except FileNotFoundError:
            return None
        for pid in _descendants(self.pid):
            with suppress(FileNotFoundError):  # a backend whose connection just closed
                kib += _field_kib(f"/proc/{pid}/smaps_rollup", "Pss")
        return kib / 1024, fds


def _descendants(pid: int) -> list[int]:
    children = defaultdict(list)
    for child, parent in _parents().items():
        children[parent].append(child)
    found, todo = [], [pid]
    while todo:
        kids = children[todo.pop()]
        found += kids
        todo += kids
    return found


# --- Kafka -------------------------------------------------------------------------------


class BusProbe:
    """Lags of the stages' consumer groups and message counts of topics, from the broker."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="soak")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="soak")

    def _end_offsets(self, topic: str) -> dict[TopicPartition, int]:
        """Empty while nobody has published to the topic: topics are made on first use."""
        if topic not in self.consumer.topics():
            return {}
        parts = self.consumer.partitions_for_topic(topic) or set()
        return self.consumer.end_offsets([TopicPartition(topic, p) for p in parts])

    def messages(self, topic: str) -> int:
        return sum(self._end_offsets(topic).values())

    def lags(self) -> dict[str, int]:
        """Messages each group has not committed yet; a group that never committed lags by
        the whole topic."""
        lags = {}
        for group, topic in GROUPS:
            committed = self.admin.list_group_offsets(group)[group]
            lags[group] = sum(
                end - (committed[tp].offset if tp in committed else 0)
                for tp, end in self._end_offsets(topic).items()
            )
        return lags

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


# --- database ----------------------------------------------------------------------------

COUNTS = {
    "violations": "SELECT count(*) FROM violations",
    "citations": "SELECT count(*) FROM citations",
    "SMS rows": "SELECT count(*) FROM sms_outbox",
    "billboard posts": "SELECT count(*) FROM billboard_items",
    "outbox unrelayed": "SELECT count(*) FROM event_outbox WHERE published_at IS NULL",
    "database connections": (
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    ),
}
_APPROVED = (
    "FROM citations c WHERE EXISTS (SELECT 1 FROM citation_transitions t"
    " WHERE t.citation_id = c.id AND t.to_state = 'approved')"
)
CHECKS = {
    "violations without a citation": (
        "SELECT count(*) FROM violations v"
        " WHERE NOT EXISTS (SELECT 1 FROM citations c WHERE c.violation_id = v.id)"
    ),
    "violations with more than one citation": (
        "SELECT count(*) FROM (SELECT violation_id FROM citations"
        " GROUP BY violation_id HAVING count(*) > 1) d"
    ),
    "citations never reviewed": (
        "SELECT count(*) FROM citations WHERE status IN ('detected', 'pending_review')"
    ),
    "approved citations without an SMS row": (
        f"SELECT count(*) {_APPROVED}"
        " AND NOT EXISTS (SELECT 1 FROM sms_outbox s WHERE s.citation_id = c.id)"
    ),
    "citations with two SMS of one kind": (
        "SELECT count(*) FROM (SELECT citation_id FROM sms_outbox"
        " GROUP BY citation_id, notice_type HAVING count(*) > 1) d"
    ),
    "approved citations not on their screen": (
        f"SELECT count(*) {_APPROVED} AND NOT EXISTS (SELECT 1 FROM billboard_items b"
        " WHERE b.citation_id = c.id AND b.screen_id = c.camera_id)"
    ),
    "citations posted twice on a screen": (
        "SELECT count(*) FROM (SELECT citation_id FROM billboard_items"
        " GROUP BY screen_id, citation_id HAVING count(*) > 1) d"
    ),
    "events never relayed from the outbox": COUNTS["outbox unrelayed"],
}
"""Each counts the rows that show a loss or a duplicate; every one must be 0 after the drain.
A screen's id is its camera's (benchmarks/soak/deployment.py)."""


class StoreProbe:
    def __init__(self, url: str) -> None:
        # One connection for the whole soak: a new one per count would start and end a
        # PostgreSQL backend each time, and the server's memory would be sampled mid-churn.
        self.engine = create_engine(url, pool_size=1, max_overflow=0)

    def count(self, queries: Iterable[tuple[str, str]]) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {name: connection.execute(text(sql)).scalar_one() for name, sql in queries}

    def close(self) -> None:
        self.engine.dispose()
