"""One fault at a time on the running pipeline: what came out, what was lost, what doubled.

Each row is one run of the demo's footage (2 cases: a red-light runner whose keeper gets the
SMS, a jaywalker nobody can be named for; 2 screens) through real processes, with one fault:

  none                 the baseline
  kill -9 run          `stopline run` (memory bus, SQLite) SIGKILLed mid-run, started again
  1 % corrupt frames   the camera a folder of JPEGs, 1 % of them undecodable bytes
  evidence disk full   the evidence folder a full tmpfs until the detector waits (root only)
  kill -9 each worker  every `stopline worker` (Kafka, PostgreSQL) SIGKILLed at a random
                       point, in a random order, and started again
  broker restart       the Kafka-protocol broker stopped and started mid-run
  postgres restart     PostgreSQL restarted (fast shutdown) mid-run
  carrier down         the SMS carrier unreachable for --outage-s seconds from the start

violations/citations are rows in the store, SMS the messages the loopback carrier accepted
for the keeper, posts the billboard items; dup and lost are counted against what the footage
must give (2, 2, 1, 4) and from duplicate citations of one violation or cases never cited.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.common import argument_parser, print_table, run_benchmark
from tests.faults import (
    HEADERS,
    Outcome,
    broker_restart,
    carrier_down,
    corrupt_frames,
    disk_full,
    fill_evidence_disk,
    kill_each,
    no_fault,
    postgres_restart,
    run_faulted,
    small_disk,
    sqlite_url,
)
from tests.services import kafka_broker, postgres_server, scratch_database


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("benchmarks.faults", __doc__)
    parser.add_argument("--outage-s", type=float, default=30.0, help="carrier outage, seconds")
    parser.add_argument("--seed", type=int, default=7, help="picks the kill order and points")
    args = parser.parse_args(argv)

    def body() -> None:
        outcomes: list[Outcome] = []
        with tempfile.TemporaryDirectory() as root:
            folders = iter(Path(root) / str(n) for n in range(100))

            def embedded(fault: str, inject, **kw) -> None:  # type: ignore[no-untyped-def]
                folder = next(folders)
                folder.mkdir()
                outcomes.append(run_faulted(fault, folder, sqlite_url(folder), inject, **kw))

            embedded("none", no_fault)
            embedded("kill -9 run", kill_each(args.seed))
            embedded("1 % corrupt frames", no_fault, setup=corrupt_frames(0.01, args.seed))
            if os.geteuid() == 0:
                folder = next(folders)
                with small_disk(folder / "evidence"):
                    outcomes.append(
                        run_faulted(
                            "evidence disk full",
                            folder,
                            sqlite_url(folder),
                            disk_full,
                            setup=fill_evidence_disk,
                        )
                    )
            with kafka_broker() as bootstrap, postgres_server() as server:
                for fault, inject in (
                    ("kill -9 each worker", kill_each(args.seed)),
                    ("broker restart", broker_restart),
                    ("postgres restart", postgres_restart),
                    (f"carrier down {args.outage_s:.0f} s", carrier_down(args.outage_s)),
                ):
                    folder = next(folders)
                    folder.mkdir()
                    with scratch_database(server) as url:
                        outcomes.append(run_faulted(fault, folder, url, inject, bootstrap))
        print_table(
            "faults: the demo's cases through the pipeline, one fault per run",
            [*HEADERS, "notes"],
            [[*o.row(), "; ".join(o.notes)] for o in outcomes],
            label_columns=2,
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
