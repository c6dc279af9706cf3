"""Soak: the whole pipeline as separate worker processes on Kafka and PostgreSQL, fed by four
cameras looping the real clips, measured for --minutes (10 by default) after a warm-up; fails on
growth past its bounds or on any lost or duplicated case.

    .venv/bin/python -m benchmarks.soak                          # 10 minutes measured
    .venv/bin/python -m benchmarks.soak --minutes 60 > soak-1h.txt

For an hour, keep the default --sample-s 30 (about 125 tables) and redirect stdout; the summary
is at the end. Start-up, warm-up and the drain add 3-5 minutes. The detect worker alone needs
about 0.8 of a core; on a machine busy with other work the cameras fall below their frame rate
(the summary shows the fps reached) and fewer cases come.
Services: KAFKA_BOOTSTRAP_SERVERS / STOPLINE_TEST_POSTGRES_URL name existing ones instead of a
throwaway broker and cluster (tests/services.py); the broker must then hold no stopline topics or
groups, whose names are fixed.

Cameras: the real clips in ../shared/data/video (Hanoi, y3, y2, and Hanoi again as a fourth),
each sent in a loop in real time by ffmpeg (`-stream_loop -1`, copied, not re-encoded) to its own
RTSP relay on loopback (benchmarks/streams); each camera has its clip config's geometry, signal
source, rules and identification (configs/clip-*.yaml). Looped footage meets signal phases that
no longer match it after the first loop: the violation counts are load, not accuracy. The
detector and each camera's frame rate, and why, are printed at the start (DETECTOR in
benchmarks/soak/deployment.py).
Processes: `stopline worker STAGE` for identify, review-policy (the clips' demo reviewer approves
every citation), relay, notify (the file gateway; nobody is registered, so every notice is an
"unsendable" row) and display (one 256x128 LED screen per camera, frames written to a folder);
detect is `benchmarks.soak.detect`, the same code as `stopline worker detect` plus a file with
its frame and violation counts.
Every --sample-s a table: memory (RSS; for PostgreSQL the PSS of the server and its backends)
and open files of each process, consumer-group lags (messages not yet committed), and counts:
frames analysed, violations published by detect and stored, citations, SMS rows, billboard posts,
unrelayed outbox events, database connections, dead letters.
Warm-up lasts --warmup-min and until a case has reached an SMS row and a billboard post (every
stage has loaded its models); --minutes are measured from there. Then detect gets SIGTERM, the
other stages drain (every lag 0 and the outbox empty, twice 1 s apart) and get SIGTERM too.
Exit 1 if a process grew past the bounds after warm-up (stated in the output), exited early or
not with 0 on SIGTERM, a camera stopped delivering, or a check finds a loss or a duplicate:
a violation without exactly one citation, a citation never reviewed, an approved citation
without its SMS row or its billboard post or with two of either, an event never relayed, a
message never consumed, a dead letter, or published violations that were not stored.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from benchmarks.common import argument_parser, positive_int, run_benchmark, stderr
from benchmarks.soak.deployment import (
    CAMERAS,
    CONSUMERS,
    DETECTOR,
    Workers,
    clip_files,
    looping_cameras,
    write_config,
)
from benchmarks.soak.probes import CHECKS, COUNTS, BusProbe, StoreProbe, Watched, listener
from benchmarks.soak.report import BOUNDS, Sample, print_sample, print_summary
from pipeline.bus import DEAD_LETTER_TOPIC
from tests.services import kafka_broker, postgres_database

READY_TIMEOUT_S = 300.0
"""A safety net: six interpreters loading models on a busy machine; the soak waits for frames."""
WARMUP_TIMEOUT_S = 300.0
"""How long after --warmup-min a first case may take to reach every stage (a Hanoi loop is 64 s;
identify loads its models for the first in under a minute)."""
DRAIN_TIMEOUT_S = 300.0
POLL_S = 1.0


class Soak:
    def __init__(
        self, args: argparse.Namespace, workers: Workers, bus: BusProbe, store: StoreProbe
    ) -> None:
        self.args = args
        self.workers = workers
        self.bus = bus
        self.store = store
        self.watched: list[Watched] = []
        self.t0 = time.monotonic()

    def stats(self) -> dict[str, dict[str, int]]:
        try:
            return json.loads(self.workers.stats.read_text())
        except FileNotFoundError:
            return {}

    def take(self) -> Sample:
        stats = self.stats()
        counts = {
            "frames analysed": sum(s["analysed"] for s in stats.values()),
            "violations published": sum(s["violations"] for s in stats.values()),
            **self.store.count(COUNTS.items()),
            "dead letters": self.bus.messages(DEAD_LETTER_TOPIC),
        }
        return Sample(
            time.monotonic() - self.t0,
            {w.name: w.sample() for w in self.watched},
            self.bus.lags(),
            counts,
            {camera: s["analysed"] for camera, s in stats.items()},
        )

    def _abort_if_dead(self) -> None:
        if dead := self.workers.dead():
            for name in dead:
                stderr.print(f"{name} exited early:\n{self.workers.log_tail(name)}", markup=False)
            raise SystemExit(1)

    def wait_ready(self, cameras: int) -> None:
        """Until every camera's frames are analysed and the schema is there to count in."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._abort_if_dead()
            stats = self.stats()
            if len(stats) == cameras and all(s["analysed"] for s in stats.values()):
                try:
                    self.store.count(COUNTS.items())
                    return
                except SQLAlchemyError:
                    pass  # the first worker is still migrating
            time.sleep(POLL_S)
        raise SystemExit(f"the cameras were not analysed within {READY_TIMEOUT_S:.0f} s")

    def run(self) -> tuple[list[Sample], int]:
        """Warm-up, then --minutes measured: every sample, and the index of the first measured.

        Warm-up lasts --warmup-min and until a case has an SMS row and a billboard post: the
        plate reader and the display's people finder load on the first case (about 1 GB in
        identify), which is start-up, not growth. Where no case comes (cameras starved of CPU
        fall below the frame rate the rules need), measuring starts anyway after
        WARMUP_TIMEOUT_S more, and the summary says so.
        """
        samples: list[Sample] = []
        self.t0 = time.monotonic()
        warm_from = self.t0 + self.args.warmup_min * 60
        end, first = None, 0
        while True:
            sample = self.take()
            samples.append(sample)
            now = time.monotonic()
            late = now >= warm_from + WARMUP_TIMEOUT_S
            if end is None and now >= warm_from and (_through(sample) or late):
                end, first = now + self.args.minutes * 60, len(samples) - 1
            print_sample(sample, "warm-up" if end is None else "measured")
            self._abort_if_dead()
            left = self.args.sample_s if end is None else end - now
            if left <= 0:
                return samples, first
            time.sleep(min(self.args.sample_s, left))

    def drain(self) -> None:
        """Until no group lags and the outbox is empty, twice in a row: between reading the
        lags and the outbox, the relay may publish what a group then has still to take."""
        quiet, deadline = 0, time.monotonic() + DRAIN_TIMEOUT_S
        while quiet < 2 and time.monotonic() < deadline:
            time.sleep(POLL_S)
            unrelayed = self.store.count([("", COUNTS["outbox unrelayed"])])[""]
            quiet = quiet + 1 if not any(self.bus.lags().values()) and not unrelayed else 0


def _services(bootstrap: str, database_url: str) -> list[Watched]:
    """The broker and PostgreSQL, where they run on this machine (not when given by URL)."""
    found = []
    for name, port, server in (
        ("kafka", int(bootstrap.rsplit(":", 1)[1]), False),
        ("postgres", make_url(database_url).port or 5432, True),
    ):
        try:
            found.append(Watched(name, listener(port), server))
        except LookupError:
            stderr.print(f"{name} does not run on this machine: not watched")
    return found


def _through(sample: Sample) -> bool:
    return bool(sample.counts["SMS rows"] and sample.counts["billboard posts"])


def soak(args: argparse.Namespace) -> bool:
    clips = clip_files(args.cameras)
    with (
        kafka_broker() as bootstrap,
        postgres_database() as database_url,
        tempfile.TemporaryDirectory(prefix="stopline-soak-") as tmp,
        looping_cameras(clips) as urls,
    ):
        folder = Path(tmp)
        config = write_config(folder, urls, bootstrap, database_url)
        workers = Workers(folder, config, folder / "frames.json")
        bus, store = BusProbe(bootstrap), StoreProbe(database_url)
        run = Soak(args, workers, bus, store)
        cameras = ", ".join(f"{c} ({clip} at {fps:g} fps)" for c, clip, fps in CAMERAS[: len(urls)])
        print(f"soak: {args.minutes:g} min, warm-up {args.warmup_min:g} min; cameras {cameras};")
        print(f"detector: {DETECTOR}; {BOUNDS}", flush=True)
        try:
            workers.start()
            procs = workers.procs.items()
            run.watched = [Watched(n, p.pid) for n, p in procs] + _services(bootstrap, database_url)
            run.wait_ready(len(clips))
            samples, warm = run.run()
            workers.stop(["detect"])
            run.drain()
            workers.stop(CONSUMERS)
            final = run.take()
            checks = store.count(CHECKS.items())
        finally:
            workers.stop_all()
            bus.close()
            store.close()
    counts = final.counts
    checks |= {
        "no case through every stage before measuring": int(not _through(samples[warm])),
        "violations published but not stored": counts["violations published"]
        - counts["violations"],
        "messages never consumed": sum(final.lags.values()),
        "dead letters": counts["dead letters"],
        "workers not exiting 0 on SIGTERM": sum(rc != 0 for rc in workers.exit_codes.values()),
        "cameras with no frame in the last sample interval": sum(
            samples[-1].frames[c] <= n for c, n in samples[-2].frames.items()
        ),
    }
    notes = [f"{len(samples)} samples every {args.sample_s:g} s; {len(clips)} cameras"]
    return print_summary(samples, warm, final, checks, notes)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.soak", __doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="measured, after warm-up")
    parser.add_argument(
        "--cameras", type=positive_int, default=len(CAMERAS), choices=range(1, len(CAMERAS) + 1)
    )
    parser.add_argument("--sample-s", type=float, default=30.0, help="seconds between samples")
    parser.add_argument(
        "--warmup-min", type=float, default=2.0, help="least warm-up; it also waits for a case"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        if not soak(args):
            raise SystemExit(1)

    run_benchmark(body)


if __name__ == "__main__":
    main()
