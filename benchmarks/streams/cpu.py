"""CPU time from /proc: per process, per thread and for the whole machine, in clock ticks."""

from __future__ import annotations

import os
from pathlib import Path


def _ticks(stat_path: str) -> int:
    """utime + stime of a process or thread, in clock ticks."""
    text = Path(stat_path).read_text()
    fields = text.rsplit(")", 1)[1].split()  # the name in parentheses may contain spaces
    return int(fields[11]) + int(fields[12])


def _pid_ticks(pid: int) -> int:
    try:
        return _ticks(f"/proc/{pid}/stat")
    except OSError:
        return 0


def _thread_ticks() -> dict[int, int]:
    """Ticks of every thread of this process, by kernel thread id."""
    out = {}
    for task in os.scandir("/proc/self/task"):
        try:
            out[int(task.name)] = _ticks(f"{task.path}/stat")
        except OSError:
            continue  # exited meanwhile
    return out


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total
