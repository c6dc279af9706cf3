"""Exact-match accuracy and time of plate reading on the real plates in ../shared/data.

    .venv/bin/python -m benchmarks.plates_accuracy [--engine paddleocr]

Sets (each row):
- `openalpr br|eu|us`: whole photos of cars (`plates-openalpr/`), read with `PlateReader.read`
  and the row's region: localisation, rectification, OCR and format check. Right when the most
  confident read whose box overlaps the labelled plate box equals the label; with no
  overlapping read, the most confident read anywhere is scored (a wrong box is no plate found).
- `cn crops`: 94x24 crops of Chinese plates (`plates-cn-crops/`, file name = text), read with
  `PlateReader.read_plate` (OCR and format only; the crop is the plate).
- `us tracks` (`--sets tracks`): what the identify stage does per violation. For the first
  `TRACKS` US photos, 8 crops around the labelled plate growing from 4x to 6.1x its width (a
  car coming closer, as the tracker crops it) are voted by `PlateReader.read_track`; ms is per
  track, and the mean number of crops read is printed below.

Columns: images; exact (whole plate right, %); ms / image (mean wall time, models loaded);
then failure kinds: no plate (nothing read, or no format fits), wrong length, confusion (same
length, one or more characters wrong; the most frequent true->read pairs are listed below).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from benchmarks.common import (
    argument_parser,
    num,
    print_table,
    progress_bar,
    run_benchmark,
    tracked,
)
from identify.plate_formats import regions_for
from identify.plates import PlateReader
from pipeline.config import PlateEngine, PlatesConfig
from pipeline.images import read_image
from stopline.deployment import plate_reader

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COLUMNS = ("set", "images", "exact %", "ms / image", "no plate", "wrong length", "confusion")


@dataclass
class Tally:
    name: str
    images: int = 0
    exact: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    confusions: Counter[str] = field(default_factory=Counter)

    def score(self, truth: str, read: str | None, seconds: float) -> None:
        self.images += 1
        self.seconds += seconds
        if read == truth:
            self.exact += 1
        elif not read:
            self.kinds["no plate"] += 1
        elif len(read) != len(truth):
            self.kinds["wrong length"] += 1
        else:
            self.kinds["confusion"] += 1
            self.confusions.update(f"{t}->{r}" for t, r in zip(truth, read, strict=True) if t != r)

    @property
    def row(self) -> list[str]:
        return [
            self.name,
            str(self.images),
            num(100 * self.exact / max(self.images, 1)),
            num(1000 * self.seconds / max(self.images, 1)),
            *(str(self.kinds[k]) for k in COLUMNS[4:]),
        ]


def _overlaps(box: tuple[int, int, int, int], label: tuple[int, int, int, int]) -> bool:
    x, y, w, h = label
    return box[0] < x + w and x < box[2] and box[1] < y + h and y < box[3]


def openalpr(reader: PlateReader, country: str, progress: object) -> Tally:
    tally = Tally(f"openalpr {country}")
    labels = sorted((DATA / "plates-openalpr" / country).glob("*.txt"))
    for label_file in tracked(progress, labels, f"openalpr {country}"):  # type: ignore[arg-type]
        name, x, y, w, h, truth = label_file.read_text().split()[:6]
        image = read_image(label_file.with_name(name))
        started = time.perf_counter()
        reads = reader.read(image, country)
        seconds = time.perf_counter() - started
        on_label = [r for r in reads if _overlaps(r.box, (int(x), int(y), int(w), int(h)))]
        chosen = (on_label or reads)[:1]
        tally.score(truth, chosen[0].text if chosen else None, seconds)
    return tally


def cn_crops(reader: PlateReader, progress: object) -> Tally:
    tally = Tally("cn crops")
    files = sorted((DATA / "plates-cn-crops").glob("*.jpg"))
    for path in tracked(progress, files, "cn crops"):  # type: ignore[arg-type]
        image = read_image(path)
        started = time.perf_counter()
        read = reader.read_plate(image, regions_for("cn"))
        tally.score(path.stem, read[0] if read else None, time.perf_counter() - started)
    return tally


TRACKS = 10
TRACK_CROPS = 8


def us_tracks(reader: PlateReader, progress: object) -> Tally:
    tally = Tally(f"us tracks ({TRACK_CROPS} crops)")
    labels = sorted((DATA / "plates-openalpr" / "us").glob("*.txt"))[:TRACKS]
    frames_read = 0
    for label_file in tracked(progress, labels, "us tracks"):  # type: ignore[arg-type]
        name, x, y, w, h, truth = label_file.read_text().split()[:6]
        image = read_image(label_file.with_name(name))
        cx, cy, width = int(x) + int(w) // 2, int(y) + int(h) // 2, int(w)
        crops = []
        for k in range(TRACK_CROPS):
            half = int(width * (2 + k * 0.3))
            crops.append(image[max(0, cy - half) : cy + half // 2, max(0, cx - half) : cx + half])
        started = time.perf_counter()
        vote = reader.read_track(crops, "us")
        tally.score(truth, vote.text, time.perf_counter() - started)
        frames_read += vote.frames_read
    print(
        f"us tracks: {frames_read / max(len(labels), 1):.1f} of {TRACK_CROPS} crops read per track"
    )
    return tally


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.plates_accuracy", __doc__)
    parser.add_argument("--sets", default="br,eu,us,cn", help="comma-separated: br,eu,us,cn,tracks")
    parser.add_argument(
        "--engine",
        default="rapidocr",
        choices=get_args(PlateEngine),
        help="identification.plates.engine (paddleocr needs the extra of that name)",
    )
    args = parser.parse_args(argv)

    def body() -> None:
        reader = plate_reader(PlatesConfig(engine=args.engine))
        tallies = []
        with progress_bar() as progress:
            for name in args.sets.split(","):
                if name == "cn":
                    tallies.append(cn_crops(reader, progress))
                elif name == "tracks":
                    tallies.append(us_tracks(reader, progress))
                else:
                    tallies.append(openalpr(reader, name, progress))
        print_table(
            f"plate reading: exact match on real plates ({args.engine}; + agentclpr for CN)",
            COLUMNS,
            [t.row for t in tallies],
        )
        for tally in tallies:
            common = ", ".join(f"{pair} x{n}" for pair, n in tally.confusions.most_common(8))
            if common:
                print(f"{tally.name}: most frequent confusions: {common}")

    run_benchmark(body)


if __name__ == "__main__":
    main()
