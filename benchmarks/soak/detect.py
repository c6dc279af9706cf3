"""The detect stage exactly as `stopline worker detect` runs it (`Pipeline.run_worker` calls
`detect_all`, which is `run_cameras(camera_runs())`), plus what that worker never tells anyone
and the soak needs: frames analysed and violations published per camera, written to a JSON file
every second and once more after the streams closed.

Usage: python -m benchmarks.soak.detect CONFIG STATS_JSON (in the deployment's folder).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from stopline.camera_run import CameraRun
from stopline.commands.common import plain_errors, read_config, setup_logging
from stopline.wiring import Pipeline, stop_on_signals

REPORT_EVERY_S = 1.0


def write_stats(runs: list[CameraRun], path: Path) -> None:
    """Replace the file whole, so the soak never reads half of it."""
    stats = {
        run.camera.id: {
            "analysed": run.source_stats.analysed,
            "violations": run.stage.stats.violations,
        }
        for run in runs
    }
    staged = path.with_suffix(".partial")
    staged.write_text(json.dumps(stats))
    os.replace(staged, path)


def main() -> None:
    config, stats = map(Path, sys.argv[1:])
    setup_logging(False)
    stop = stop_on_signals()
    with plain_errors(), Pipeline(read_config(config), base_dir=Path.cwd()) as pipeline:
        runs = pipeline.camera_runs()
        done = threading.Event()

        def report() -> None:
            while not done.wait(REPORT_EVERY_S):
                write_stats(runs, stats)

        reporter = threading.Thread(target=report, daemon=True)
        reporter.start()
        try:
            pipeline.run_cameras(runs, stop)
        finally:
            done.set()
            reporter.join()
            write_stats(runs, stats)


if __name__ == "__main__":
    main()
