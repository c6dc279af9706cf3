"""The portal's evidence: what blurring one approved case's key frames and clip costs.

For each real clip and each `portal.media.sample_fps`, one approved case with that clip as its
evidence (a signed manifest, as the detect stage writes) goes through the portal's stage
(`portal.stage.PortalMediaStage.make`) with the deployment's people finder (SSD persons, YuNet
faces, the plate spotter), as `stopline worker portal` runs it:
- frames: frames of the clip; searched: frames the finder ran on (every fps/sample_fps-th and
  the last, and the key frames);
- s/case: wall time to make the case's files (verify the manifest, search, blur, encode);
- ms/searched: that time per searched frame, the finder's share dominating;
- blurred: regions blurred in the searched frames.
The finder's models load before the first timed case. Goal: a case well inside the time its
SMS takes to reach the person and be read (minutes).
"""

from __future__ import annotations

import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np

from benchmarks import review_cases
from benchmarks.common import argument_parser, num, print_table, run_benchmark
from identify.people import PeopleFinder
from pipeline.config import PortalMediaConfig, load_config
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.store import Role, open_store
from pipeline.store.models import AuditEntry
from pipeline.store.registry import add_user
from pipeline.video import decode_mp4, encode_mp4
from portal.stage import PortalMediaStage
from review.cases import approve
from stopline.demo.run import DEMO_CONFIG
from stopline.deployment import people_finder

VIDEO = review_cases.CLIP.parent
CLIPS = {"y2 (car on red)": VIDEO / "y2.mp4", "Hanoi crossing": VIDEO / "16h15.25.9.22.mp4"}
CLIP_S = 12.0
"""An evidence clip's length (detectors.evidence: 6 s before and after)."""
COLUMNS = ("clip", "size", "frames", "sample fps", "searched", "s/case", "ms/searched", "blurred")


def evidence_clip(source: Path, folder: Path) -> Path:
    """The first 12 s of a clip, re-encoded as the detect stage encodes evidence."""
    fps, frames = decode_mp4(source.read_bytes())
    path = folder / f"{source.stem}-12s.mp4"
    path.write_bytes(encode_mp4(islice(frames, round(fps * CLIP_S)), fps))
    return path


def one_case(folder: Path, clip: Path, sample_fps: float, finder: PeopleFinder) -> list[str]:
    """One approved case with `clip` as its evidence, made into portal media: the table row."""
    store = open_store(f"sqlite:///{folder / 'stopline.db'}")
    key = load_or_create_key(folder / "key.pem")
    evidence = EvidenceStore(folder / "evidence")
    (citation_id,) = review_cases.seed(store, evidence, 1, signing_key=key, clip=clip)
    with store.session() as session:
        add_user(session, "rita", "-", Role.REVIEWER)
        approve(session, citation_id, "rita")
    media = PortalMediaConfig(sample_fps=sample_fps)
    stage = PortalMediaStage(store, evidence, media, lambda: finder)
    started = time.perf_counter()
    made = stage.make(citation_id)
    took = time.perf_counter() - started
    assert made, "no media made"
    with store.session() as session:
        row = session.query(AuditEntry).filter_by(action="portal_media.made").one()
        searched, blurred = row.detail["frames_searched"], row.detail["regions_blurred"]
    _, frames = decode_mp4(clip.read_bytes())
    first = next(frames)
    count = 1 + sum(1 for _ in frames)
    store.close()
    return [
        "",
        f"{first.shape[1]}x{first.shape[0]}",
        str(count),
        num(sample_fps, 0),
        str(searched),
        num(took, 1),
        num(took / searched * 1000, 0),
        str(blurred),
    ]


def main() -> None:
    parser = argument_parser(__name__, __doc__)
    parser.add_argument(
        "--sample-fps", type=float, nargs="+", default=[1.0, 2.0, 4.0], help="rates to try"
    )
    args = parser.parse_args()
    finder = people_finder(load_config(DEMO_CONFIG))
    finder.find(np.zeros((360, 640, 3), np.uint8), True)  # models compiled before timing
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in CLIPS.items():
            clip = evidence_clip(source, Path(tmp))
            for rate in args.sample_fps:
                folder = Path(tempfile.mkdtemp(dir=tmp))
                rows.append([name, *one_case(folder, clip, rate, finder)[1:]])
    print_table(
        "portal evidence: blurring one case's key frames and clip",
        COLUMNS,
        rows,
        notes=["one case at a time, on this machine's CPU; the finder's models loaded first"],
    )


if __name__ == "__main__":
    run_benchmark(main)
