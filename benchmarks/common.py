"""What every benchmark shares: the entry point, the progress bar, the table and its numbers.

Tables go to stdout and progress bars to stderr, so `> file` captures exactly the table that
`docs/PERFORMANCE.md` quotes.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import NoReturn, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pipeline.events import EvidenceRef, SignalSnapshot, ViolationDetected

T = TypeVar("T")

# Events spread over a few cameras, so Kafka keys land on more than one partition.
CAMERA_IDS = tuple(f"bench-cam-{n}" for n in range(4))
_EPOCH = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
# Redirected output has no terminal width; rich would then squeeze the table into 80 columns.
_PIPED_WIDTH = 160
# A refresh per item would cost more than one memory-bus publish and skew the result.
_PROGRESS_STEPS = 200

stderr = Console(stderr=True)


def _sigterm(_signum: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(143)


def run_benchmark(body: Callable[[], None]) -> None:
    """Run `body` so that Ctrl-C and SIGTERM unwind through every service's `finally`.

    SIGTERM's default action kills the process on the spot, leaving a broker or a PostgreSQL
    cluster running; as SystemExit it takes the same path as Ctrl-C.
    """
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        body()
    except KeyboardInterrupt:
        stderr.print("interrupted; every service this benchmark started has been stopped")
        raise SystemExit(130) from None


def argument_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """`--help` shows the module docstring, which explains what each number means."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def positive_int(text: str) -> int:
    """Counts of zero would end in a division by zero after the whole run; refuse them upfront."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """One live display for the whole benchmark; rich refuses two at once."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as progress:
        yield progress


def tracked(progress: Progress, items: Sequence[T], description: str) -> Iterator[T]:
    """Yield `items`, moving a bar forward in a few hundred steps rather than once per item."""
    task = progress.add_task(description, total=len(items))
    step = max(1, len(items) // _PROGRESS_STEPS)
    for done, item in enumerate(items, 1):
        yield item
        if done % step == 0 or done == len(items):
            progress.update(task, completed=done)


def percentiles_ms(samples_s: Sequence[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 and max in milliseconds; tails matter more than means for a pipeline."""
    values = np.asarray(samples_s) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return float(p50), float(p95), float(p99), float(values.max())


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def num(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    label_columns: int = 1,
    notes: Sequence[str] = (),
) -> None:
    """Print the benchmark's one table; the first `label_columns` are text, the rest numbers.

    The caption always ends with the peak RSS, so every run also records memory.
    """
    caption = [*notes, f"peak RSS of this process: {num(peak_rss_mb())} MB"]
    table = Table(title=title, caption="\n".join(caption))
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index < label_columns else "right")
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console.width = _PIPED_WIDTH
    console.print(table)


def violation_event(index: int) -> ViolationDetected:
    """A red-light event shaped like the detect stage's, with three evidence references.

    Its size on the wire (about 1 kB of JSON) is what the bus and the store really carry.
    """
    digests = [hashlib.sha256(f"{index}:{n}".encode()).hexdigest() for n in range(4)]
    evidence = [
        EvidenceRef(sha256=digests[0], role="key_frame", media_type="image/jpeg"),
        EvidenceRef(sha256=digests[1], role="crop", media_type="image/jpeg"),
        EvidenceRef(sha256=digests[2], role="clip", media_type="video/mp4"),
    ]
    return ViolationDetected(
        violation_id=hashlib.sha256(f"violation:{index}".encode()).hexdigest()[:32],
        kind="red_light",
        camera_id=CAMERA_IDS[index % len(CAMERA_IDS)],
        occurred_at=_EPOCH + timedelta(seconds=index),
        track_id=index,
        object_class="car",
        signal=SignalSnapshot(phase="red", source="fixed_plan", time_into_red_s=1.25),
        speed_px_s=142.0,
        rule="north-stop",
        evidence=evidence,
        manifest_sha256=digests[3],
    )
