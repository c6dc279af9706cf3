"""A crossing with billboards: the demo's camera, screens of several sizes, a real store and
evidence store, and citations whose offender picture is a real photo.

The photos are Ultralytics' zidane.jpg (two men: the offender and a bystander beside him) and
bus.jpg (pedestrians by a bus), shipped in its wheel.
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from PIL import Image

from display.billboards import Billboards
from display.fonts import find_fonts
from display.render import Renderer
from display.slide import Locale
from identify.people import PeopleFinder
from pipeline.config import StoplineConfig, parse_config
from pipeline.events import EvidenceRef, Reason
from pipeline.evidence import EvidenceStore
from pipeline.store import Role, Status, Store, create_citation, transition
from pipeline.store.models import Citation
from pipeline.store.registry import add_person, add_user, put_camera, record_violation
from stopline.demo.run import DEMO_CONFIG
from stopline.deployment import people_finder
from tests.clock import WallClock
from tests.detectors.photos import ultralytics_asset
from tests.shared_data import DATA, need
from tests.stage_helpers import violation_event

CAMERA = "demo-east"
PLACE = "Demo Ave & 1st St, eastbound"
REVIEWER = "rita"
PICTURE_BOX = (540, 40, 1160, 710)
"""Zidane in zidane.jpg as a loose tracker box crops him: Ancelotti's face and shoulder, a
bystander, are in the picture on the left."""
CAR = "plates-openalpr/us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg"
CAR_BOX = (780, 0, 1920, 540)
"""The car in that photo; its plate YG9X2G is at (155, 362, 254, 411) in the crop."""


def photo(name: str, box: tuple[int, int, int, int] | None = None) -> Image.Image:
    """A photo from the Ultralytics wheel, or from the shared data for a path with a folder."""
    path = need(DATA / name) if "/" in name else ultralytics_asset(name)
    image = Image.open(path).convert("RGB")
    return image.crop(box) if box else image


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def screens(*sizes: tuple[str, int, int], **screen: object) -> list[dict[str, object]]:
    return [
        {"id": sid, "cameras": [CAMERA], "width_px": w, "height_px": h, **screen}
        for sid, w, h in sizes
    ]


def crossing_config(tmp_path: Path, display: dict[str, object]) -> StoplineConfig:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": f"sqlite:///{tmp_path / 'stopline.db'}",
        "evidence_dir": str(tmp_path / "evidence"),
        "signing_key_path": str(tmp_path / "key.pem"),
    }
    data["display"] = display
    return parse_config(data, "crossing.yaml")


@dataclass
class Crossing:
    config: StoplineConfig
    store: Store
    evidence: EvidenceStore
    finder: PeopleFinder
    made: int = field(default=0)
    clock: WallClock = field(default_factory=WallClock)

    def citation(
        self,
        *,
        status: Status = Status.APPROVED,
        kind: str = "jaywalk",
        reason: Reason | None = None,
        picture: Image.Image | None = None,
        person: tuple[str, str | None] | None = ("张伟明", "440301199001011234"),
        plate: str | None = None,
        occurred_at: datetime | None = None,
    ) -> str:
        """A citation at `status` (through the state machine), its picture in the evidence;
        an `outside_crosswalk` jaywalk has no signal, as the detect stage records it."""
        self.made += 1
        refs = []
        if picture is not None:
            stored = self.evidence.put(jpeg(picture), "crop:offender", "image/jpeg")
            refs.append(
                EvidenceRef(sha256=stored.sha256, role=stored.role, media_type="image/jpeg")
            )
        event = violation_event(f"v-display-{self.made}").model_copy(
            update={
                "camera_id": CAMERA,
                "kind": kind,
                "object_class": "person" if kind == "jaywalk" else "car",
                "reason": reason,
                **({"signal": None} if reason == "outside_crosswalk" else {}),
                "evidence": refs,
                **({"occurred_at": occurred_at} if occurred_at else {}),
            }
        )
        with self.store.session() as session:
            record_violation(session, event)
            person_id = None
            if person is not None:
                name, national_id = person
                person_id = add_person(
                    session, name, national_id=national_id and f"{national_id[:-4]}{self.made:04d}"
                ).id
            citation = create_citation(
                session,
                event.violation_id,
                citation_id=f"cit-{self.made:04d}",
                plate_text=plate,
                person_id=person_id,
            )
            if status is not Status.PENDING_REVIEW:
                decided = Status.REJECTED if status is Status.REJECTED else Status.APPROVED
                transition(session, citation.id, decided, REVIEWER, "checked")
            if status in (Status.APPEALED, Status.DISMISSED):
                transition(session, citation.id, Status.NOTIFIED, "system:test")
                transition(session, citation.id, Status.APPEALED, "system:test")
            if status is Status.DISMISSED:
                transition(session, citation.id, Status.DISMISSED, "sam", "appeal upheld")
            return citation.id

    def billboards(self) -> Billboards:
        display = self.config.display
        locale = Locale("Asia/Shanghai", self.config.notifier.fine_text, display.message)
        renderer = Renderer(find_fonts(display.font_path))
        return Billboards(
            self.store,
            self.evidence,
            display,
            locale,
            renderer,
            lambda: self.finder,
            self.config.notifier.appeal_days,
            self.clock,
        )

    def status(self, citation_id: str) -> str:
        with self.store.session() as session:
            citation = session.get(Citation, citation_id)
            assert citation is not None
            return citation.status


@pytest.fixture(scope="session")
def finder(tmp_path_factory: pytest.TempPathFactory) -> PeopleFinder:
    """In f32, whatever the CPU: bf16 moves the golden boxes by up to 13 px."""
    config = crossing_config(tmp_path_factory.mktemp("finder"), {})
    f32 = config.detector.model_copy(update={"openvino_precision": "f32"})
    return people_finder(config.model_copy(update={"detector": f32}))


def open_crossing(
    tmp_path: Path, store: Store, finder: PeopleFinder, **display: object
) -> Crossing:
    """A crossing whose cases show on approval unless `hold_for_appeal=True` is given: the
    tests of the hold say so; the rest are about what shows."""
    config = crossing_config(tmp_path, {"hold_for_appeal": False, **display})
    evidence = EvidenceStore(tmp_path / "evidence")
    with store.session() as session:
        put_camera(session, CAMERA, CAMERA, PLACE)
        add_user(session, REVIEWER, "x", Role.REVIEWER)
        add_user(session, "sam", "x", Role.SUPERVISOR)
    return Crossing(config, store, evidence, finder)


@pytest.fixture
def crossing(tmp_path: Path, store: Store, finder: PeopleFinder) -> Iterator[Crossing]:
    yield open_crossing(
        tmp_path,
        store,
        finder,
        screens=screens(("led", 256, 128), ("big", 1920, 1080)),
    )
