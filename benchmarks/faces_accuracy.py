"""Face identification on real photos: who is named correctly, who wrongly, who stays unidentified.

    .venv/bin/python -m benchmarks.faces_accuracy     # ~10 s; needs ../shared/data/faces*

One gallery holds the first photo of each person of `../shared/data/faces-deepface` (13 people)
and `obama.jpg` of `../shared/data/faces`, enrolled as `stopline faces enroll` does (the one face
that passes the quality gate). Every other photo is a probe: the second photo of 10 of the
deepface people and `obama2.jpg` are of enrolled people; `biden.jpg`, the six people of `t1.jpg`
and the people in photos packages ship (scikit-image astronaut, matplotlib grace_hopper,
ultralytics zidane and bus when installed) are not, so the only right answer for them is
"unidentified". Each usable face is matched with `identify.faces.match` at the configured
`identification.faces.match_threshold` (--threshold to try another).

Columns of the first table, per set:
- faces: probe faces that passed the quality gate; rejected: faces the gate turned away;
- right: enrolled person named correctly; wrong name: anybody named who is not the person
  (the error that must not happen); unidentified: no name (right for people not enrolled, a miss
  for enrolled ones);
- lowest genuine: the lowest similarity of an enrolled person's probe to their own enrolment;
  highest impostor: the highest similarity of any probe to anybody else in the gallery;
- margins: lowest genuine - threshold and threshold - highest impostor (both positive = every
  probe of the set is answered right, with that much room).

The second table is the calibration behind the default threshold: every pair of the 23
faces-deepface photos (10 same-person, 243 different-person pairs), with the one usable face of
each photo; the threshold is the middle of the gap between the highest different-person score and
the lowest same-person score. The deepface rows of the first table are therefore in-sample; the
others are not.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.common import argument_parser, num, print_table, run_benchmark
from identify.faces import Face, FaceEngine, load_photo, match, sole_face
from identify.gallery import ExactGallery
from pipeline.config import FacesConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FACES = DATA / "faces"
DEEPFACE = DATA / "faces-deepface"
COLUMNS = (
    *("set", "faces", "rejected", "right", "wrong name", "unidentified"),
    *("lowest genuine", "highest impostor", "genuine - thr", "thr - impostor"),
)


@dataclass(frozen=True)
class Probe:
    path: Path
    person: str | None
    """Who the photo shows if they are enrolled; None for people not in the gallery."""


@dataclass
class SetResult:
    name: str
    faces: int = 0
    rejected: int = 0
    right: int = 0
    wrong: int = 0
    unidentified: int = 0
    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)

    def row(self, threshold: float) -> list[str]:
        low = min(self.genuine, default=None)
        high = max(self.impostor, default=None)
        return [
            self.name,
            *(str(n) for n in (self.faces, self.rejected, self.right, self.wrong)),
            str(self.unidentified),
            "-" if low is None else num(low, 3),
            "-" if high is None else num(high, 3),
            "-" if low is None else num(low - threshold, 3),
            "-" if high is None else num(threshold - high, 3),
        ]


def deepface_photos() -> dict[str, list[Path]]:
    """Photos per identity, in the order identities.csv lists them."""
    people: dict[str, list[Path]] = {}
    with (DEEPFACE / "identities.csv").open(newline="") as file:
        for row in csv.DictReader(file):
            people.setdefault(row["identity"], []).append(DEEPFACE / row["file"])
    return people


def package_photos() -> list[Path]:
    """Real photos that installed packages ship; ultralytics' only if it is installed."""
    found = []
    for package, inside in (
        ("skimage", "data/astronaut.png"),
        ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
        ("ultralytics", "assets/zidane.jpg"),
        ("ultralytics", "assets/bus.jpg"),
    ):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            found.append(Path(spec.origin).parent / inside)
    return found


def usable(engine: FaceEngine, image: np.ndarray) -> tuple[list[Face], int]:
    faces = engine.faces(image)
    good = [f for f in faces if f.quality.ok]
    return good, len(faces) - len(good)


def enrolment(engine: FaceEngine, path: Path) -> tuple[np.ndarray, Face]:
    """The photo and its one usable face, as `stopline faces enroll` takes them."""
    image, _ = load_photo(path)
    try:
        return image, sole_face(engine, image)
    except ValueError as exc:
        raise SystemExit(f"{path}: {exc}") from None


def calibrate(engine: FaceEngine) -> tuple[int, int, float, float]:
    """Same- and different-person pair counts and the lowest / highest score of each."""
    vectors = [
        (person, engine.embed(*enrolment(engine, path)))
        for person, paths in deepface_photos().items()
        for path in paths
    ]
    genuine, impostor = [], []
    for (a, va), (b, vb) in itertools.combinations(vectors, 2):
        (genuine if a == b else impostor).append(float(va @ vb))
    return len(genuine), len(impostor), min(genuine), max(impostor)


def probe_sets() -> Iterator[tuple[str, list[Probe]]]:
    people = deepface_photos()
    yield "faces-deepface", [Probe(p, person) for person, ps in people.items() for p in ps[1:]]
    yield "faces: obama2", [Probe(FACES / "obama2.jpg", "obama")]
    yield "faces: biden, t1", [Probe(FACES / "biden.jpg", None), Probe(FACES / "t1.jpg", None)]
    yield "package photos", [Probe(path, None) for path in package_photos()]


def enrol(engine: FaceEngine) -> ExactGallery:
    gallery = ExactGallery()
    enrolments = [(person, paths[0]) for person, paths in deepface_photos().items()]
    for person, path in [*enrolments, ("obama", FACES / "obama.jpg")]:
        gallery.add(person, engine.embed(*enrolment(engine, path)))
    return gallery


def evaluate(
    engine: FaceEngine, gallery: ExactGallery, name: str, probes: Sequence[Probe], threshold: float
) -> SetResult:
    result = SetResult(name)
    for probe in probes:
        image, _ = load_photo(probe.path)
        good, rejected = usable(engine, image)
        if probe.person is not None:
            # A photo of an enrolled person: its main face is the probe, the rest are strangers.
            good = [max(good, key=lambda f: f.quality.value)] if good else []
        result.rejected += rejected
        for face in good:
            result.faces += 1
            answer = match(engine, gallery, image, face, threshold)
            if answer.person_id is None:
                result.unidentified += 1
            elif answer.person_id == probe.person:
                result.right += 1
            else:
                result.wrong += 1
            for person, score in gallery.search(engine.embed(image, face), len(gallery)):
                (result.genuine if person == probe.person else result.impostor).append(score)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.faces_accuracy", __doc__)
    parser.add_argument(
        "--threshold", type=float, default=None, help="match threshold (default: the config's)"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        config = FacesConfig(enabled=True)
        threshold = config.match_threshold if args.threshold is None else args.threshold
        engine = FaceEngine(config)
        gallery = enrol(engine)
        results = [evaluate(engine, gallery, n, p, threshold) for n, p in probe_sets()]
        print_table(
            f"face identification, SFace ({engine.model_name}), threshold {threshold:g}",
            COLUMNS,
            [r.row(threshold) for r in results],
            notes=[f"gallery: {len(gallery)} people, one photo each"],
        )
        same, different, low, high = calibrate(engine)
        print_table(
            "threshold calibration: every pair of faces-deepface photos",
            ("pairs same", "pairs different", "lowest same", "highest different", "middle"),
            [[str(same), str(different), num(low, 3), num(high, 3), num((low + high) / 2, 3)]],
            label_columns=0,
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
