"""SQL store speed on SQLite and PostgreSQL: citations created, approved, and the audit checked.

- create: one transaction per citation, as the identify stage makes it: `record_violation` then
  `create_citation`, which writes the citation, two history rows and two audit rows.
- approve: one transaction per citation, `transition(..., approved)` by a user with the reviewer
  role (a role lookup, a row lock, a history row and an audit row).
- verify: `verify_chain` re-hashes every audit row those wrote (3 per citation); the median of
  three runs, also given per 1000 rows since a real audit log grows without bound.

Every transaction commits on its own, so the rates include one commit each: with fsync on
SQLite (WAL, synchronous=FULL), and on the throwaway PostgreSQL cluster only with
--pg-durable (by default it runs with the tests' fsync=off settings).
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, TypeVar

from rich.progress import Progress
from sqlalchemy import text

from benchmarks.common import (
    CAMERA_IDS,
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
from pipeline.events import ViolationDetected
from pipeline.store import Role, Status, Store, create_citation, open_store, transition
from pipeline.store.audit import verify_chain
from pipeline.store.registry import add_user, put_camera, record_violation
from tests.services import postgres_database

Backend = Literal["sqlite", "postgres"]
T = TypeVar("T")

COLUMNS = (
    *("backend", "operation", "n", "total s", "per s", "ms per 1000"),
    *("p50 ms", "p95 ms", "p99 ms", "max ms"),
)
_REVIEWER = "bench-reviewer"
_VERIFY_RUNS = 3
_SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@contextmanager
def _database(backend: Backend, durable: bool) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database(durable=durable) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="stopline-bench-sqlite-") as folder:
        yield f"sqlite:///{folder}/stopline.db"


def _settings(store: Store) -> str:
    """The durability settings actually in force, read back from the server: they decide the
    commit cost, so the table must not rely on what we think we configured."""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            journal = connection.execute(text("PRAGMA journal_mode")).scalar()
            synchronous = connection.execute(text("PRAGMA synchronous")).scalar()
            return (
                f"SQLite {sqlite3.sqlite_version}, journal_mode={journal},"
                f" synchronous={_SQLITE_SYNCHRONOUS.get(synchronous, synchronous)}"
            )
        shown = {
            name: connection.execute(text(f"SHOW {name}")).scalar()
            for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        }
    version = shown.pop("server_version")
    return f"PostgreSQL {version}, " + ", ".join(f"{k}={v}" for k, v in shown.items())


def _time_each(
    bar: Progress, items: Sequence[T], description: str, operation: Callable[[T], None]
) -> list[float]:
    samples = []
    for item in tracked(bar, items, description):
        start = time.perf_counter()
        operation(item)
        samples.append(time.perf_counter() - start)
    return samples


def _verify_seconds(store: Store) -> tuple[float, int]:
    """Seconds for one full chain check and the rows it covered; a broken chain is an error,
    because timing a check that stopped early would flatter it."""
    start = time.perf_counter()
    with store.session() as session:
        report = verify_chain(session)
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"audit chain broken at row {report.bad_row_id}: {report.reason}")
    return elapsed, report.rows_checked


def _rate_columns(n: int, total_s: float) -> list[str]:
    return [str(n), num(total_s, 2), num(n / total_s, 0), num(total_s / n * 1e6, 1)]


def bench_backend(
    backend: Backend, n_citations: int, durable: bool, bar: Progress
) -> tuple[list[list[str]], str]:
    """Table rows for one backend, and the settings it ran with."""
    with _database(backend, durable) as url:
        store = open_store(url)
        try:
            settings = _settings(store)
            with store.session() as session:
                for camera_id in CAMERA_IDS:
                    put_camera(session, camera_id, camera_id)
                add_user(session, _REVIEWER, "!bench-no-login", Role.REVIEWER)
            cases = [(violation_event(i), uuid.uuid4().hex) for i in range(n_citations)]

            def create(case: tuple[ViolationDetected, str]) -> None:
                event, citation_id = case
                with store.session() as session:
                    record_violation(session, event)
                    create_citation(session, event.violation_id, citation_id=citation_id)

            def approve(case: tuple[ViolationDetected, str]) -> None:
                with store.session() as session:
                    transition(session, case[1], Status.APPROVED, _REVIEWER)

            timed = {
                "create citation": _time_each(bar, cases, f"{backend}: create", create),
                "approve citation": _time_each(bar, cases, f"{backend}: approve", approve),
            }
            verifications = [_verify_seconds(store) for _ in range(_VERIFY_RUNS)]
        finally:
            store.close()
    rows = [
        [backend, operation, *_rate_columns(len(samples), sum(samples))]
        + [num(ms, 2) for ms in percentiles_ms(samples)]
        for operation, samples in timed.items()
    ]
    verify_s = statistics.median(seconds for seconds, _ in verifications)
    audit_rows = verifications[0][1]
    rows.append([backend, "verify audit chain", *_rate_columns(audit_rows, verify_s)] + ["–"] * 4)
    return rows, f"{backend}: {settings}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.bench_store", __doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--citations", type=positive_int, default=1000, help="citations per backend"
    )
    parser.add_argument(
        "--pg-durable",
        action="store_true",
        help="run the throwaway PostgreSQL cluster with fsync and synchronous commit on",
    )
    args = parser.parse_args(argv)
    backends: list[Backend] = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    def body() -> None:
        rows: list[list[str]] = []
        notes: list[str] = []
        with progress_bar() as bar:
            for backend in backends:
                backend_rows, settings = bench_backend(
                    backend, args.citations, args.pg_durable, bar
                )
                rows += backend_rows
                notes.append(settings)
        notes.append("n of verify = audit rows; 'ms per 1000' = ms per 1000 citations or rows")
        print_table(
            "pipeline.store: citations, approvals, audit chain",
            COLUMNS,
            rows,
            label_columns=2,
            notes=notes,
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
