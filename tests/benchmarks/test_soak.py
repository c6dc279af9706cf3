"""The soak in brief: one camera until a case has gone through every stage, then 6 s measured.

The same real services, ffmpeg relay and shared clip as the full soak; it must exit 0 (nothing
grew past the bounds, nothing lost or duplicated) and end with its summary. Most of its 2-3
minutes is waiting for the first real violation (the Hanoi loop's riders crossing on the plan's
red: within two 64 s loops) and for identify to load its plate models for it.
"""

import subprocess
import sys

import pytest

from benchmarks.soak.deployment import clip_files
from tests.cli import ROOT
from tests.shared_data import need

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(600)]

SAFETY_NET_S = 540
"""Below the test's timeout, so that a hung soak fails with its output."""


def test_a_short_soak_passes_and_prints_its_summary() -> None:
    for clip in clip_files(1):
        need(clip)
    command = [sys.executable, "-m", "benchmarks.soak", "--minutes", "0.1", "--cameras", "1"]
    result = subprocess.run(
        [*command, "--warmup-min", "0", "--sample-s", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET_S,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    for table in ("per process after warm-up", "cameras and consumer groups", "counts and checks"):
        assert f"soak summary: {table}" in result.stdout
