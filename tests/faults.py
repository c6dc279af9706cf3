"""Fault injection on the whole pipeline: the demo intersection's cases through real processes,
a real broker, PostgreSQL or SQLite and a loopback SMS carrier, with one fault at a time.

Each run ends in an `Outcome`: the counts of what came out (violations, citations, messages the
carrier accepted, billboard posts) against the demo's known cases, and from them the losses and
duplicates. The tests (tests/stopline/test_faults.py) require 0 of both for every fault;
benchmarks/faults.py prints the table docs/RELIABILITY.md records.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pipeline.config import load_config
from stopline.demo.frames import render
from stopline.demo.run import KEEPER_PHONE, register_keeper
from stopline.wiring import Pipeline
from tests.cli import COMMAND
from tests.demo_site import demo_data
from tests.notifier.twilio_server import TwilioServer
from tests.waits import wait_until

DEADLINE_S = 300.0
"""A safety net on a busy machine: runs wait for the counts, not for this long."""
TOKEN_ENV = "STOPLINE_FAULTS_TWILIO_TOKEN"
CONSUMERS = ("identify", "review-policy", "relay", "notify", "display")


@dataclass(frozen=True)
class Expected:
    """What the demo's footage must give: its cases, the keeper's SMS, a post per screen of
    the one case that names somebody (the jaywalker stays off the screens)."""

    violations: int = 2
    sms: int = 1
    named: int = 1
    screens: int = 2

    @property
    def posts(self) -> int:
        return self.named * self.screens


@dataclass
class Outcome:
    fault: str
    backend: str
    violations: int = 0
    citations: int = 0
    sms: int = 0
    posts: int = 0
    duplicates: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    def complete(self, expected: Expected) -> bool:
        return (
            self.citations >= expected.violations
            and self.sms >= expected.sms
            and self.posts >= expected.posts
        )

    def row(self) -> list[str]:
        counts = (self.violations, self.citations, self.sms, self.posts)
        return [self.fault, self.backend, *map(str, counts), str(self.duplicates), str(self.lost)]


HEADERS = ["fault", "backend", "violations", "citations", "SMS", "posts", "dup", "lost"]


def count(database_url: str, carrier: TwilioServer, fault: str, backend: str) -> Outcome:
    """The run's result as the store and the carrier see it, against `Expected`."""
    expected = Expected()
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:

        def scalar(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar() or 0)

        outcome = Outcome(
            fault,
            backend,
            violations=scalar("SELECT count(*) FROM violations"),
            citations=scalar("SELECT count(*) FROM citations"),
            posts=scalar("SELECT count(*) FROM billboard_items"),
        )
        twice = scalar(
            "SELECT count(*) FROM (SELECT violation_id FROM citations GROUP BY violation_id "
            "HAVING count(*) > 1) AS d"
        )
        uncited = scalar(
            "SELECT count(*) FROM violations v WHERE NOT EXISTS "
            "(SELECT 1 FROM citations c WHERE c.violation_id = v.id)"
        )
    engine.dispose()
    outcome.sms = sum(m.to == KEEPER_PHONE for m in carrier.delivered())
    outcome.duplicates = (
        twice
        + max(outcome.violations - expected.violations, 0)
        + max(outcome.sms - expected.sms, 0)
        + max(outcome.posts - expected.posts, 0)
    )
    outcome.lost = (
        uncited
        + max(expected.violations - outcome.violations, 0)
        + max(expected.sms - outcome.sms, 0)
        + max(expected.posts - outcome.posts, 0)
    )
    return outcome


def site_config(
    folder: Path, database_url: str, carrier: TwilioServer, bootstrap: str | None = None
) -> Path:
    """The demo config (SSD alone: `demo_data`) on this run's store, bus and carrier."""
    data = demo_data()
    data["storage"]["database_url"] = database_url
    if bootstrap is not None:
        data["bus"] = {"kind": "kafka", "bootstrap_servers": bootstrap, "max_attempts": 3}
    data["notifier"].update(
        gateway="http",
        http_api="twilio",
        url=carrier.url,
        account=carrier.account,
        secret_env=TOKEN_ENV,
        sender_id="STOPLINE",
    )
    data["notifier"].pop("outbox_dir")
    # What these runs count is citations, SMS and billboard posts; the portal's blurring is
    # tested on its own (tests/portal/test_media.py), and here would only slow each run.
    data["portal"] = {"media": {"enabled": False}}
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def prepare(folder: Path, config: Path) -> None:
    """The footage, and the keeper of the red motorcycle's plate in the store."""
    cfg = load_config(config)
    render(cfg.cameras[0], folder)
    with Pipeline(cfg, base_dir=folder) as pipeline:
        register_keeper(pipeline, cfg.identification.plates.region)


@contextmanager
def carrier_env(carrier: TwilioServer) -> Iterator[None]:
    os.environ[TOKEN_ENV] = carrier.token
    try:
        yield
    finally:
        os.environ.pop(TOKEN_ENV, None)


class Processes:
    """`stopline` commands as a service manager runs them: started, killed, started again."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        self.logs[name] = self.folder / f"{name}.log"
        with self.logs[name].open("a") as log:
            self.running[name] = subprocess.Popen(
                [*COMMAND, *args, "--config", str(self.config), "-v"],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        return self.running[name]

    def worker(self, stage: str) -> subprocess.Popen[str]:
        return self.start(stage, "worker", stage)

    def kill(self, name: str) -> None:
        """SIGKILL: no handler, no flush, no goodbye to the group."""
        process = self.running[name]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def stop_all(self) -> dict[str, int]:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes


def settle(database_url: str, carrier: TwilioServer, fault: str, backend: str) -> Outcome:
    """Wait until every expected output is there (or the safety net), then count."""
    expected = Expected()
    outcome = count(database_url, carrier, fault, backend)
    deadline = time.monotonic() + DEADLINE_S
    while not outcome.complete(expected) and time.monotonic() < deadline:
        time.sleep(0.5)
        outcome = count(database_url, carrier, fault, backend)
    return outcome


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'stopline.db'}"


def fill(folder: Path) -> Path:
    """Fill the filesystem of `folder` to the last byte; the filler file is returned."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 1 << 12, 1):  # unbuffered, smaller and smaller
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


@contextmanager
def small_disk(path: Path, size_mb: int = 64) -> Iterator[Path]:
    """A tmpfs of `size_mb` at `path` (root only: a real full disk, not a faked error)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
        shutil.rmtree(path, ignore_errors=True)


Inject = Callable[["Run"], None]
"""A fault: called once the processes are up; it may wait on the run's counts, kill and
restart processes, take a service away and bring it back."""


@dataclass
class Run:
    folder: Path
    database_url: str
    carrier: TwilioServer
    processes: Processes
    bootstrap: str | None

    def rows(self, table: str, where: str = "true") -> int:
        engine = create_engine(self.database_url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar() or 0
                )
        finally:
            engine.dispose()

    def wait_rows(self, table: str, at_least: int = 1, where: str = "true") -> None:
        wait_until(
            lambda: self._rows_or_zero(table, where) >= at_least,
            f"{at_least} {table} rows",
            DEADLINE_S,
        )

    def _rows_or_zero(self, table: str, where: str) -> int:
        try:
            return self.rows(table, where)
        except Exception:  # the database is away (being restarted) or not migrated yet
            return 0

    def restart(self, name: str, *args: str) -> None:
        """SIGKILL a process and start it again, as a service manager does."""
        self.processes.kill(name)
        self.processes.start(name, *args)


def run_faulted(
    fault: str,
    folder: Path,
    database_url: str,
    inject: Inject,
    bootstrap: str | None = None,
    setup: Callable[[Path, Path], None] | None = None,
) -> Outcome:
    """The demo footage through every stage, with `inject` run beside it.

    With `bootstrap`, each stage is its own `stopline worker` on Kafka; without, `stopline run`
    runs them all in one process on the memory bus. The run is over when the detector has
    ended and every expected output is there (or the safety net passed).
    """
    backend = "kafka+postgresql" if bootstrap else "memory+sqlite"
    with TwilioServer() as carrier, carrier_env(carrier):
        config = site_config(folder, database_url, carrier, bootstrap)
        prepare(folder, config)
        if setup is not None:
            setup(folder, config)
        processes = Processes(config, folder)
        run = Run(folder, database_url, carrier, processes, bootstrap)
        try:
            if bootstrap:
                for stage in CONSUMERS:
                    processes.worker(stage)
                processes.worker("detect")
            else:
                processes.start("run", "run")
            inject(run)
            detector = "detect" if bootstrap else "run"
            wait_until(
                lambda: processes.running[detector].poll() is not None,
                f"{detector} end",
                DEADLINE_S,
            )
            outcome = settle(database_url, carrier, fault, backend)
        finally:
            codes = processes.stop_all()
    corrupt = re.search(r"corrupt frames skipped\D+(\d+)", processes.log("run"))
    if corrupt and corrupt[1] != "0":
        outcome.notes.append(f"{corrupt[1]} corrupt frames skipped")
    bad = {name: code for name, code in codes.items() if code != 0}
    if bad:
        outcome.notes.append(f"exit codes {bad}")
    return outcome


# --- the faults ------------------------------------------------------------------------------


def kill_each(seed: int) -> Inject:
    """Every process SIGKILLed once, in a random order at random points, and started again."""

    def inject(run: Run) -> None:
        rng = random.Random(seed)
        names = [*CONSUMERS, "detect"] if run.bootstrap else ["run"]
        rng.shuffle(names)
        run.wait_rows("violations")  # the cases are on their way through the stages
        for name in names:
            time.sleep(rng.uniform(0.0, 3.0))  # picks the point; nothing waits on it
            args = ("worker", name) if run.bootstrap else ("run",)
            run.restart(name, *args)

    return inject


def broker_restart(run: Run) -> None:
    from tests.services import restart_broker

    assert run.bootstrap is not None
    run.wait_rows("violations")
    restart_broker(run.bootstrap)


def postgres_restart(run: Run) -> None:
    from tests.services import restart_postgres

    run.wait_rows("violations")
    restart_postgres(run.database_url)


def carrier_down(outage_s: float | None = None) -> Inject:
    """The SMS carrier unreachable from the start: for `outage_s`, or until the keeper's
    notice has failed twice (a test waits for the condition, not for a duration)."""

    def inject(run: Run) -> None:
        run.carrier.down()
        try:
            if outage_s is None:
                run.wait_rows("sms_outbox", where="attempts >= 2 AND status = 'pending'")
            else:
                time.sleep(outage_s)
        finally:
            run.carrier.up()

    return inject


def disk_full(run: Run) -> None:
    """The evidence disk was full from the start (`setup` filled it); free it once the
    detector says it is waiting for space, and check no case got ahead of its evidence."""
    wait_until(lambda: "paused" in run.processes.log("run"), "pause for the full disk", DEADLINE_S)
    assert run.rows("violations") == 0, "a case was stored before its evidence"
    (run.folder / "evidence" / "filler.bin").unlink()


def fill_evidence_disk(folder: Path, _config: Path) -> None:
    fill(folder / "evidence")


def corrupt_frames(share: float, seed: int) -> Callable[[Path, Path], None]:
    """The camera as a folder of JPEG frames, `share` of them replaced by undecodable bytes."""

    def setup(folder: Path, config: Path) -> None:
        import cv2

        data = yaml.safe_load(config.read_text())
        camera = data["cameras"][0]
        frames = folder / "frames"
        frames.mkdir()
        video = cv2.VideoCapture(str(folder / camera["source"]))
        total = 0
        while True:
            ok, image = video.read()
            if not ok:
                break
            cv2.imwrite(str(frames / f"{total:05d}.jpg"), image)
            total += 1
        video.release()
        rng = random.Random(seed)
        for index in rng.sample(range(total), max(1, round(total * share))):
            (frames / f"{index:05d}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + rng.randbytes(900))
        camera["source"] = "frames"
        config.write_text(yaml.safe_dump(data))

    return setup


def no_fault(_run: Run) -> None:
    """The baseline the faults are compared with."""
