"""The soak's tables: one per sample while it runs, then the summary with the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.common import num, print_table

RSS_GROWTH_MIB = 128.0
"""Growth is judged on floors (see `growth_rows`). In a 10-minute soak after warm-up the floors
of healthy workers stepped up by at most ~60 MiB once and then held (display, a few minutes after
its first frames); the bound is twice that. A leak of 128 MiB in 10 minutes (~18 GiB a day)
would take a worker down within hours; an hour's soak catches ~2 MiB/min."""
FD_GROWTH = 8
"""Each process holds a fixed set of files: its Kafka connections, its database pool (at most 5
kept), a log, pipes. 8 leaves room for a broker reconnect or the pool filling up under load; a
file leaked per case or per frame passes it within minutes."""
BOUNDS = (
    f"bounds after warm-up, per process: memory growth <= {RSS_GROWTH_MIB:.0f} MiB, open files"
    f" growth <= {FD_GROWTH}; growth = lowest sample of the last third of the measured window"
    " minus lowest of the first third (why: benchmarks/soak/report.py)"
)
MEMORY = "MiB: RSS; for postgres the PSS of the server and its backends, fds the server's own"


@dataclass
class Sample:
    t_s: float
    procs: dict[str, tuple[float, int] | None]
    """(memory MiB, open files) per watched process; None once it is gone."""
    lags: dict[str, int]
    counts: dict[str, int]
    frames: dict[str, int]
    """Frames analysed per camera so far."""


def _counts_line(sample: Sample) -> str:
    return "counts: " + ", ".join(f"{name} {value}" for name, value in sample.counts.items())


def _lags_line(lags: dict[str, int]) -> str:
    return "consumer lag: " + ", ".join(f"{group} {lag}" for group, lag in lags.items())


def print_sample(sample: Sample, phase: str) -> None:
    names = list(sample.procs)
    values = [sample.procs[n] for n in names]
    print_table(
        f"soak at {sample.t_s / 60:.1f} min ({phase})",
        ("", *names),
        [
            ["MiB", *(num(v[0], 0) if v else "gone" for v in values)],
            ["fds", *(str(v[1]) if v else "gone" for v in values)],
        ],
        notes=[_lags_line(sample.lags), _counts_line(sample), MEMORY],
    )


def growth_rows(samples: Sequence[Sample], warm: int) -> tuple[list[list[str]], bool]:
    """Per process: memory and open files at start, first, peak, last, growth, and whether the
    growth stayed within the bounds.

    First and last are floors: the lowest sample of the first and of the last third of the
    measured window. A case in flight lifts identify by up to ~130 MiB for one sample and the
    allocator gives it back; a leak lifts the floor. Comparing single samples would judge
    whichever case happened to be in flight.
    """
    rows, within = [], True
    for name in samples[0].procs:
        start = samples[0].procs[name]
        seen = [v for s in samples[warm:] if (v := s.procs[name]) is not None]
        if start is None or len(seen) < len(samples) - warm:
            rows.append([name, *["-"] * 10, "FAIL: exited"])
            within = False
            continue
        mib, fds = [v[0] for v in seen], [v[1] for v in seen]
        third = max(1, len(seen) // 3)
        (mib0, mib1), (fds0, fds1) = ((min(v[:third]), min(v[-third:])) for v in (mib, fds))
        ok = mib1 - mib0 <= RSS_GROWTH_MIB and fds1 - fds0 <= FD_GROWTH
        within &= ok
        rows.append(
            [
                name,
                *(num(v, 0) for v in (start[0], mib0, max(mib), mib1)),
                num(mib1 - mib0, 1),
                *(str(v) for v in (start[1], fds0, max(fds), fds1)),
                f"{fds1 - fds0:+d}",
                "ok" if ok else "FAIL: grew",
            ]
        )
    return rows, within


def print_summary(
    samples: Sequence[Sample],
    warm: int,
    final: Sample,
    checks: dict[str, int],
    notes: Sequence[str],
) -> bool:
    """Print the summary tables; whether every bound held and every check is 0. `final` is
    read after the drain, when only the services are still running."""
    rows, within = growth_rows(samples, warm)
    print_table(
        f"soak summary: per process after warm-up (ended at {samples[warm].t_s / 60:.1f} min)",
        (
            *("process", "MiB start", "MiB first", "MiB peak", "MiB last", "MiB growth"),
            *("fds start", "fds first", "fds peak", "fds last", "fds growth", "verdict"),
        ),
        rows,
        notes=[BOUNDS, MEMORY, *notes],
    )
    seconds = max(samples[-1].t_s, 1e-9)
    print_table(
        "soak summary: cameras and consumer groups",
        ("camera or group", "frames analysed", "fps", "peak lag", "lag after drain"),
        [
            *([camera, str(n), num(n / seconds, 2), "", ""] for camera, n in final.frames.items()),
            *(
                [group, "", "", str(max(s.lags[group] for s in samples)), str(lag)]
                for group, lag in final.lags.items()
            ),
        ],
    )
    print_table(
        "soak summary: counts and checks after the drain",
        ("count or check", "value", "verdict"),
        [
            *([name, str(value), ""] for name, value in final.counts.items()),
            *([name, str(value), "FAIL" if value else "ok"] for name, value in checks.items()),
        ],
        notes=["each check counts a loss or a duplicate: it must be 0"],
    )
    return within and not any(checks.values())
