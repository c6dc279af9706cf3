"""Faults injected into the running pipeline: every fault ends with 0 lost and 0 duplicated.

The demo's two cases go through real processes; a test takes one fault, or a few one after
another in one run to keep the suite's time (docs/RELIABILITY.md
has the same runs' figures, from benchmarks/faults.py). Timeouts are safety nets: each run
waits for its counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults import (
    Expected,
    Outcome,
    Run,
    broker_restart,
    corrupt_frames,
    disk_full,
    fill_evidence_disk,
    kill_each,
    postgres_restart,
    run_faulted,
    small_disk,
    sqlite_url,
)
from tests.services import kafka_broker

pytestmark = pytest.mark.timeout(900)


def _assert_whole(outcome: Outcome) -> None:
    expected = Expected()
    assert (outcome.duplicates, outcome.lost) == (0, 0), outcome
    assert (outcome.violations, outcome.citations) == (expected.violations,) * 2, outcome
    assert (outcome.sms, outcome.posts) == (expected.sms, expected.posts), outcome


@pytest.mark.kafka
@pytest.mark.postgres
def test_each_worker_killed_at_a_random_point_and_restarted(
    tmp_path: Path, postgres_database_url: str
) -> None:
    with kafka_broker() as bootstrap:  # its own: restarted, and empty
        outcome = run_faulted(
            "kill -9 each worker", tmp_path, postgres_database_url, kill_each(7), bootstrap
        )
    _assert_whole(outcome)


@pytest.mark.kafka
@pytest.mark.postgres
def test_broker_and_database_restarts_and_a_carrier_outage_lose_nothing(
    tmp_path: Path, postgres_database_url: str
) -> None:
    """Three faults in one run, one after another, to keep the suite's time."""

    def faults(run: Run) -> None:
        run.carrier.down()
        broker_restart(run)
        postgres_restart(run)
        run.wait_rows("sms_outbox", where="attempts >= 2 AND status = 'pending'")
        run.carrier.up()

    with kafka_broker() as bootstrap:  # its own: restarted, and empty
        outcome = run_faulted(
            "broker, database, carrier", tmp_path, postgres_database_url, faults, bootstrap
        )
    _assert_whole(outcome)
    assert "exit codes" not in " ".join(outcome.notes), outcome


def test_the_embedded_run_killed_and_restarted_loses_nothing(tmp_path: Path) -> None:
    outcome = run_faulted("kill -9 run", tmp_path, sqlite_url(tmp_path), kill_each(11))
    _assert_whole(outcome)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_corrupt_frames_and_a_full_evidence_disk_lose_no_case(tmp_path: Path) -> None:
    """1 % of the frames undecodable, and the evidence disk full until the detector waits for
    space: the frames are skipped and counted, the cases wait for their evidence. One run for
    both, to keep the suite's time (benchmarks/faults.py runs them apart)."""

    def setup(folder: Path, config: Path) -> None:
        corrupt_frames(0.01, seed=3)(folder, config)
        fill_evidence_disk(folder, config)

    with small_disk(tmp_path / "evidence"):
        outcome = run_faulted(
            "corrupt frames, evidence disk full",
            tmp_path,
            sqlite_url(tmp_path),
            disk_full,
            setup=setup,
        )
    _assert_whole(outcome)
    assert "3 corrupt frames skipped" in outcome.notes, outcome
    assert "exit codes" not in " ".join(outcome.notes), outcome
