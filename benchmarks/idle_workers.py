"""CPU of each Kafka worker process while nothing happens: what a deployment pays for its
stages between violations (issue 18 found idle workers spinning a core between them).

Starts a Kafka-protocol broker on loopback, the demo config on it with SQLite, and one
`stopline worker STAGE` process per consuming stage; after a settling time it reads each
process's CPU time from /proc over a measuring window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import argument_parser, num, print_table, run_benchmark
from stopline.demo.run import DEMO_CONFIG
from tests.services import kafka_broker

STAGES = ("identify", "review-policy", "relay", "notify", "display")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("benchmarks.idle_workers", __doc__)
    parser.add_argument("--settle-s", type=float, default=40.0, help="wait before measuring")
    parser.add_argument("--window-s", type=float, default=20.0, help="seconds measured")
    args = parser.parse_args(argv)

    def body() -> None:
        with kafka_broker() as bootstrap, tempfile.TemporaryDirectory() as folder:
            data = yaml.safe_load(DEMO_CONFIG.read_text())
            data["bus"] = {"kind": "kafka", "bootstrap_servers": bootstrap}
            data["storage"]["database_url"] = f"sqlite:///{folder}/stopline.db"
            config = Path(folder) / "workers.yaml"
            config.write_text(yaml.safe_dump(data))
            command = [sys.executable, "-m", "stopline", "worker"]
            procs = {
                stage: subprocess.Popen(
                    [*command, stage, "--config", str(config)],
                    cwd=folder,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for stage in STAGES
            }
            try:
                time.sleep(args.settle_s)
                before = {stage: cpu_s(p.pid) for stage, p in procs.items()}
                start = time.monotonic()
                time.sleep(args.window_s)
                wall = time.monotonic() - start
                rows = [
                    [stage, num(100 * (cpu_s(p.pid) - before[stage]) / wall)]
                    for stage, p in procs.items()
                ]
            finally:
                for p in procs.values():
                    p.terminate()
                for p in procs.values():
                    p.wait(60)
        print_table(
            "idle Kafka workers: CPU while nothing happens",
            ("worker", "% of a core"),
            rows,
            notes=[f"settled {args.settle_s:.0f} s, measured {args.window_s:.0f} s; demo config"],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
