"""Precision and recall of the detect stage on the real clips, against hand-written labels.

Each clip has a config (`configs/clip-NAME.yaml`: geometry and signal source) and labels
(`tests/detectors/clips/NAME.truth.yaml`: the offences a person judged from the frames, the
notable road users who must not be cited, and what cannot be judged). The clip runs through the
same `Pipeline.detect_all` as `stopline detect`, with the default detector and tracker.

An event matches a labelled offence of its kind when the offence window (`t_start_s`..`t_end_s`,
widened by --slack-s) holds the event time and the offender's track passes within --radius-px of
the labelled position (`where_px`, the ground point at `t_start_s`). Columns:
- offences: labelled offences; events: violations the stage published;
- TP: events matching an offence (one event per offence); unjudged: events on a road user the
  labels call unjudgeable (neither right nor wrong: left out of precision); FP: the other events;
- FP compliant: false positives that match a labelled compliant road user (an innocent cited);
- FN: labelled offences no event matched; suppressed: crossings the signal safeguards withheld;
- precision = TP / (TP + FP) (1 when there are none), recall = TP / offences (n/a when none);
- fps: frames analysed per second of wall time, detection and tracking included.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import argument_parser, num, print_table, run_benchmark
from detectors.rules import TrackPoint
from pipeline.config import StoplineConfig, load_config
from pipeline.events import ViolationDetected
from pipeline.geometry import ground_point
from stopline.wiring import Pipeline

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "detectors" / "clips"
START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
COLUMNS = (
    *("clip", "frames", "fps", "offences", "events", "TP", "unjudged", "FP", "FP compliant"),
    "FN",
    *("suppressed", "precision", "recall"),
)


@dataclass(frozen=True)
class Label:
    kind: str
    t_start_s: float
    t_end_s: float
    where_px: tuple[float, float]
    note: str

    @classmethod
    def parse(cls, item: dict[str, Any]) -> Label:
        x, y = item["where_px"]
        return cls(item["kind"], item["t_start_s"], item["t_end_s"], (x, y), item.get("note", ""))


@dataclass
class Seen:
    """One published event with the offender's track as the stage held it at publish time."""

    event: ViolationDetected
    t_s: float
    track: list[TrackPoint]


@dataclass
class ClipResult:
    name: str
    frames: int
    wall_s: float
    offences: list[Label]
    seen: list[Seen]
    matched: dict[int, int] = field(default_factory=dict)
    """Event index -> offence index."""
    innocent: list[int] = field(default_factory=list)
    unjudged: list[int] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)

    @property
    def false_positives(self) -> int:
        return len(self.seen) - len(self.matched) - len(self.unjudged)

    @property
    def precision(self) -> float:
        return _precision(len(self.matched), self.false_positives)


def _precision(tp: int, fp: int) -> float:
    """TP / (TP + FP): events on unjudgeable road users count as neither; 1 with none."""
    return tp / (tp + fp) if tp + fp else 1.0


def _row(results: Sequence[ClipResult], name: str) -> list[str]:
    """One clip's row, or the sum over several (fps over their total time)."""
    tp = sum(len(r.matched) for r in results)
    fp = sum(r.false_positives for r in results)
    offences = sum(len(r.offences) for r in results)
    frames = sum(r.frames for r in results)
    return [
        name,
        str(frames),
        num(frames / sum(r.wall_s for r in results)),
        str(offences),
        str(sum(len(r.seen) for r in results)),
        str(tp),
        str(sum(len(r.unjudged) for r in results)),
        str(fp),
        str(sum(len(r.innocent) for r in results)),
        str(offences - tp),
        str(sum(len(r.suppressed) for r in results)),
        num(_precision(tp, fp), 2),
        num(tp / offences, 2) if offences else "n/a",
    ]


def load_labels(name: str) -> dict[str, list[Label]]:
    data = yaml.safe_load((LABELS / f"{name}.truth.yaml").read_text())
    return {
        part: [Label.parse(item) for item in data.get(part) or []]
        for part in ("violations", "compliant", "unjudgeable")
    }


def _position(track: Sequence[TrackPoint], t: float) -> tuple[float, float]:
    return ground_point(min(track, key=lambda p: abs(p.t - t)).box)


def matches(seen: Seen, label: Label, slack_s: float, radius_px: float) -> bool:
    if seen.event.kind != label.kind:
        return False
    if not label.t_start_s - slack_s <= seen.t_s <= label.t_end_s + slack_s:
        return False
    x, y = _position(seen.track, label.t_start_s)
    return math.dist((x, y), label.where_px) <= radius_px


def evaluate(
    name: str, slack_s: float, radius_px: float, override: dict[str, Any] | None = None
) -> ClipResult:
    """`override` replaces whole sections of the clip config (to judge a model checkpoint or a
    tracker setting on every clip)."""
    config = load_config(ROOT / "configs" / f"clip-{name}.yaml")
    if override:
        config = StoplineConfig.model_validate(
            {**config.model_dump(exclude_unset=True), **override}
        )
    labels = load_labels(name)
    with tempfile.TemporaryDirectory(prefix=f"clip-{name}-") as folder:
        # Paths in the config are relative to the repository; evidence goes to the temp folder.
        storage = config.storage.model_copy(
            update={
                "evidence_dir": Path(folder) / "evidence",
                "signing_key_path": Path(folder) / "key.pem",
            }
        )
        config = config.model_copy(update={"storage": storage})
        seen: list[Seen] = []

        def collect(event: ViolationDetected) -> None:
            track = run.stage.tracks.get(event.track_id, [])
            t_s = (event.occurred_at - START).total_seconds()
            seen.append(Seen(event, t_s, list(track)))

        with Pipeline(config, base_dir=ROOT) as pipeline:
            (run,) = pipeline.camera_runs(collect, START)
            started = time.monotonic()
            pipeline.run_cameras([run], threading.Event())
            wall_s = time.monotonic() - started
    result = ClipResult(name, run.source_stats.analysed, wall_s, labels["violations"], seen)
    result.suppressed = list(run.stage.stats.suppressed)
    for i, item in enumerate(seen):
        for j, label in enumerate(labels["violations"]):
            if j not in result.matched.values() and matches(item, label, slack_s, radius_px):
                result.matched[i] = j
                break
        else:
            if any(matches(item, c, slack_s, radius_px) for c in labels["compliant"]):
                result.innocent.append(i)
            elif any(matches(item, u, slack_s, radius_px) for u in labels["unjudgeable"]):
                result.unjudged.append(i)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.clip_accuracy", __doc__)
    names = sorted(p.name.removesuffix(".truth.yaml") for p in LABELS.glob("*.truth.yaml"))
    parser.add_argument("--clips", default=",".join(names), help="comma-separated clip names")
    parser.add_argument("--slack-s", type=float, default=1.0, help="seconds around a label")
    parser.add_argument("--radius-px", type=float, default=80.0, help="pixels around a label")
    parser.add_argument(
        "--detector",
        type=Path,
        help="YAML of a `detector` section to use on every clip instead of each clip's own",
    )
    parser.add_argument(
        "--override",
        type=Path,
        help="YAML of whole config sections (e.g. `detector`, `tracking`) to use on every clip",
    )
    args = parser.parse_args(argv)
    override: dict[str, Any] = {}
    if args.override:
        override.update(yaml.safe_load(args.override.read_text()))
    if args.detector:
        override["detector"] = yaml.safe_load(args.detector.read_text())

    def body() -> None:
        results = [
            evaluate(n, args.slack_s, args.radius_px, override) for n in args.clips.split(",")
        ]
        chosen = [f.name for f in (args.detector, args.override) if f]
        what = " + ".join(chosen) if chosen else "each clip's detector"
        print_table(
            f"detect stage on real clips ({what} + ByteTrack)",
            COLUMNS,
            [*(_row([r], r.name) for r in results), _row(results, "all")],
        )
        for result in results:
            for i, item in enumerate(result.seen):
                verdict = (
                    "TP"
                    if i in result.matched
                    else "FP compliant"
                    if i in result.innocent
                    else "unjudged"
                    if i in result.unjudged
                    else "FP"
                )
                e = item.event
                print(
                    f"{result.name}: {verdict} {e.kind} track {e.track_id} "
                    f"({e.object_class}) at {item.t_s:.2f} s"
                )
            for note in result.suppressed:
                print(f"{result.name}: suppressed {note}")

    run_benchmark(body)


if __name__ == "__main__":
    main()
