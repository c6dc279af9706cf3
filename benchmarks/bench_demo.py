"""The demo intersection end to end, in this process, as `stopline demo` runs it.

Each run gets a fresh folder, so no run reuses another's database or evidence. Per run:
- render: composing the 30 s scene from photo cut-outs and encoding it to MP4 (demo-only
  work, kept apart);
- setup: `Pipeline(...)`: the bus and the signing key (the new SQLite file is migrated when the
  first stage opens it, inside pipeline);
- pipeline: `run_all`: decoding and analysing every frame, evidence (key frames, clip,
  signed manifest), then draining identify and the review policy; frames/s is over this part.
A run whose citations differ in number from the scene's scripted offences is an error, not a
data point.
Peak RSS is the process's high-water mark so far, so growth from run to run shows a leak.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    argument_parser,
    num,
    peak_rss_mb,
    positive_int,
    print_table,
    progress_bar,
    run_benchmark,
    tracked,
)
from pipeline.config import load_config
from stopline.demo.frames import render
from stopline.demo.run import DEMO_CONFIG
from stopline.demo.scene import EXPECTED, HEIGHT, WIDTH
from stopline.wiring import Pipeline

COLUMNS = (
    *("run", "frames", "render s", "setup s", "pipeline s", "wall s"),
    *("frames/s", "peak RSS MB"),
)


@dataclass(frozen=True)
class Run:
    frames: int
    render_s: float
    setup_s: float
    pipeline_s: float
    peak_rss_mb: float

    @property
    def wall_s(self) -> float:
        return self.render_s + self.setup_s + self.pipeline_s

    def row(self, label: str) -> list[str]:
        return [
            label,
            str(self.frames),
            num(self.render_s, 2),
            num(self.setup_s, 2),
            num(self.pipeline_s, 2),
            num(self.wall_s, 2),
            num(self.frames / self.pipeline_s, 0),
            num(self.peak_rss_mb),
        ]


def run_once(folder: Path) -> Run:
    config = load_config(DEMO_CONFIG)
    camera = config.cameras[0]
    start = time.perf_counter()
    render(camera, folder / Path(camera.source).parent)
    rendered = time.perf_counter()
    with Pipeline(config, base_dir=folder) as pipeline:
        ready = time.perf_counter()
        summary = pipeline.run_all()
        done = time.perf_counter()
    approved = summary.citations.get("approved", 0)
    if approved != len(EXPECTED) or summary.dead_letters:
        raise RuntimeError(
            f"demo run went wrong: {approved} approved citation(s), expected "
            f"{len(EXPECTED)}; {summary.dead_letters} dead letter(s)"
        )
    return Run(summary.frames, rendered - start, ready - rendered, done - ready, peak_rss_mb())


def _median(runs: Sequence[Run]) -> Run:
    return Run(
        frames=round(statistics.median(r.frames for r in runs)),
        render_s=statistics.median(r.render_s for r in runs),
        setup_s=statistics.median(r.setup_s for r in runs),
        pipeline_s=statistics.median(r.pipeline_s for r in runs),
        peak_rss_mb=max(r.peak_rss_mb for r in runs),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.bench_demo", __doc__)
    parser.add_argument(
        "--runs", type=positive_int, default=3, help="demo runs, each in a new folder"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        # Everything the pipeline imports is loaded by now; the runs add what they allocate.
        baseline_mb = peak_rss_mb()
        runs: list[Run] = []
        with progress_bar() as bar:
            for _ in tracked(bar, range(args.runs), "demo runs"):
                with tempfile.TemporaryDirectory(prefix="stopline-bench-demo-") as folder:
                    runs.append(run_once(Path(folder)))
        rows = [run.row(str(n)) for n, run in enumerate(runs, 1)]
        rows.append(_median(runs).row("median"))
        print_table(
            "stopline demo: whole pipeline in one process",
            COLUMNS,
            rows,
            notes=[
                f"scene: 30 s, {WIDTH}x{HEIGHT}, 10 fps; configured detector + ByteTrack; "
                "embedded defaults (memory bus, SQLite, files)",
                "median row: medians of render, setup, pipeline s; peak RSS: the maximum",
                f"peak RSS after imports, before the first run: {num(baseline_mb)} MB",
            ],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
