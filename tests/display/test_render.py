"""Golden images: every layout at two resolutions, and each privacy policy, drawn from real
citations in a real store with real photos, compared with the approved frames in golden/.

The people in the photos are given as the finder reported them (so a detector update does not
move the goldens; tests/detectors/test_people.py tests the finder). After a deliberate layout
change, regenerate with STOPLINE_UPDATE_GOLDEN=1 and look at every changed file. A mismatch
writes the frame drawn to test-artifacts/golden/ beside a difference image.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

from display import playlist
from display.layout import LayoutError, layout, layout_for, load_layout
from display.picture import People, classify
from display.render import DoesNotFit, Renderer
from display.slide import Slide
from identify.people import PeopleFinder
from pipeline.config import PrivacyPolicy, ScreenConfig
from pipeline.store import Store, open_store
from pipeline.store.models import Citation
from tests.display.conftest import (
    CAR,
    CAR_BOX,
    PICTURE_BOX,
    Crossing,
    open_crossing,
    photo,
    screens,
)

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "golden"
MEAN_TOLERANCE = 1.5
"""Mean absolute difference per channel (0-255) allowed: resampling and FreeType builds."""
PIXEL_TOLERANCE = 0.005
"""Share of pixels allowed to differ by more than 48 levels."""

ZIDANE = classify(
    # Zidane and, on the left, Ancelotti: the boxes identify.people reports on PICTURE_BOX (f32).
    faces=[(374, 61, 519, 246), (17, 224, 116, 380)],
    persons=[(174, 32, 594, 668), (0, 137, 372, 670)],
    plates=[],
    width=620,
    height=670,
    pedestrian=True,
)
CAR_PEOPLE = classify([], [], [(153, 362, 258, 415), (168, 404, 238, 424)], 1140, 540, False)
POLICIES = {
    "default": {},
    "open": {"face": "shown", "name": "shown", "national_id": "masked", "plate": "shown"},
    "strict": {"face": "blurred", "name": "hidden", "national_id": "hidden", "plate": "masked"},
}
CASES = [
    # (layout, width, height, case, policy)
    ("wide", 1920, 1080, "jaywalk", "default"),
    ("wide", 960, 540, "jaywalk", "default"),
    ("compact", 256, 128, "red_light", "default"),
    ("compact", 192, 96, "red_light", "default"),
    ("portrait", 1080, 1920, "jaywalk", "default"),
    ("portrait", 540, 960, "jaywalk", "default"),
    ("idle", 256, 128, None, "default"),
    ("idle", 1920, 1080, None, "default"),
    ("wide", 960, 540, "jaywalk", "open"),
    ("wide", 960, 540, "jaywalk", "strict"),
    ("wide", 960, 540, "red_light", "open"),
    ("wide", 960, 540, "red_light", "default"),
    ("compact", 256, 128, "red_light", "open"),
    ("compact", 256, 128, "jaywalk", "strict"),
    # Off every crosswalk: not "crossed on red" (issue 19), which no signal showed.
    ("wide", 960, 540, "jaywalk_outside", "default"),
    ("compact", 256, 128, "jaywalk_outside", "default"),
]


@pytest.fixture
def sqlite(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'golden.db'}")


def posted(crossing: Crossing, case: str) -> str:
    """The golden citation of `case`, posted with the people given above."""
    if case.startswith("jaywalk"):
        reason = "outside_crosswalk" if case == "jaywalk_outside" else None
        picture = photo("zidane.jpg", PICTURE_BOX)
        citation_id = crossing.citation(kind="jaywalk", picture=picture, reason=reason)
        people = ZIDANE
    else:
        citation_id = crossing.citation(
            kind="red_light",
            picture=photo(CAR, CAR_BOX),
            person=("John Smith", "A1234567"),
            plate="YG9X2G",
        )
        people = CAR_PEOPLE
    with crossing.store.session() as session:
        citation = session.get(Citation, citation_id)
        assert citation is not None
        screens = crossing.config.display.screens
        playlist.post(session, citation, screens, crossing.clock(), None, None, people)
    return citation_id


def compare(name: str, drawn: Image.Image) -> None:
    golden = GOLDEN / f"{name}.png"
    if os.environ.get("STOPLINE_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        drawn.save(golden, optimize=True)
    assert golden.is_file(), f"no golden {golden}: run with STOPLINE_UPDATE_GOLDEN=1 and check it"
    expected = Image.open(golden).convert("RGB")
    assert drawn.size == expected.size
    diff = np.asarray(ImageChops.difference(drawn, expected), dtype=np.int16)
    mean = float(diff.mean())
    off = float((diff.max(axis=2) > 48).mean())
    if mean > MEAN_TOLERANCE or off > PIXEL_TOLERANCE:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        drawn.save(ARTIFACTS / f"{name}.png")
        ImageChops.difference(drawn, expected).save(ARTIFACTS / f"{name}.diff.png")
    assert mean <= MEAN_TOLERANCE and off <= PIXEL_TOLERANCE, (name, mean, off)


@pytest.mark.parametrize(("name", "width", "height", "case", "policy"), CASES)
def test_frames_match_their_golden_images(
    tmp_path: Path,
    sqlite: Store,
    finder: PeopleFinder,
    name: str,
    width: int,
    height: int,
    case: str | None,
    policy: str,
) -> None:
    crossing = open_crossing(
        tmp_path,
        sqlite,
        finder,  # not called: the people are given
        screens=screens(("screen", width, height), layout="auto" if name == "idle" else name),
        privacy=POLICIES[policy],
    )
    billboards = crossing.billboards()
    if case is None:
        drawn = billboards.frame("screen", None)
    else:
        citation_id = posted(crossing, case)
        drawn = billboards.frame("screen", citation_id)
    assert drawn.size == (width, height)
    compare(f"{name}-{width}x{height}-{case or 'idle'}-{policy}", drawn)


def test_auto_layout_follows_the_screen_shape() -> None:
    assert layout_for(256, 128) == layout_for(480, 200) == "compact"
    assert layout_for(1920, 1080) == layout_for(640, 360) == "wide"
    assert layout_for(1080, 1920) == "portrait"
    assert layout_for(1920, 1080, "compact") == "compact"


@pytest.mark.parametrize("size", [(256, 128), (192, 96), (1920, 1080), (1080, 1920), (640, 360)])
def test_every_layout_holds_the_longest_slide(tmp_path: Path, size: tuple[int, int]) -> None:
    from display.fonts import find_fonts

    screen = ScreenConfig(id="s", cameras=["c"], width_px=size[0], height_px=size[1])
    Renderer(find_fonts()).check(screen, "红灯停 绿灯行 · Stop on red, go on green")


def test_a_screen_too_small_for_its_layout_fails_the_start_up_check() -> None:
    """A single 128x64 HUB75 panel cannot hold the compact slide legibly: refused at start."""
    from display.fonts import find_fonts

    screen = ScreenConfig(id="panel", cameras=["c"], width_px=128, height_px=64)
    with pytest.raises(DoesNotFit, match="on 128x64"):
        Renderer(find_fonts()).check(screen, "Stop on red")


def test_text_that_cannot_fit_is_refused_not_cut() -> None:
    from display.fonts import find_fonts

    screen = ScreenConfig(id="s", cameras=["c"], width_px=64, height_px=32)
    slide = Slide("c", {"message": "m", "place": "p"} | _fields("非常长的地点名称" * 8), None)
    with pytest.raises(DoesNotFit, match="does not fit"):
        Renderer(find_fonts()).render(slide, screen)


def _fields(place: str) -> dict[str, str | None]:
    return {
        "offence_zh": "闯红灯",
        "offence_en": "Ran a red light",
        "place": place,
        "when": "2026-11-21 16:00",
        "when_short": "11-21 16:00",
        "fine": "200 CNY",
        "plate": None,
        "name": None,
        "national_id": None,
        "reference": "CIT00001",
    }


def test_a_broken_layout_spec_names_the_file_and_field(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "description: x\nregions:\n  - name: a\n    box: [0, 0, 1.5, 1]\n    text: '{{ x }}'\n"
    )
    with pytest.raises(LayoutError, match=r"bad\.yaml: regions\.0.*not inside 0-1"):
        load_layout(spec)
    spec.write_text(
        "description: x\nregions:\n  - name: a\n    box: [0, 0, 1, 1]\n    text: '{{'\n"
    )
    with pytest.raises(LayoutError, match=r"bad\.yaml"):
        load_layout(spec)
    spec.write_text("description: x\nwobble: 1\nregions: []\n")
    with pytest.raises(LayoutError, match="wobble"):
        load_layout(spec)
    assert layout("wide").regions


def test_the_privacy_policy_decides_every_text_field(tmp_path: Path, finder: PeopleFinder) -> None:
    """The text a layout can print: names masked as 张*明 / J*** S****, ID digits masked or
    hidden, plates masked; nothing the policy hides reaches the template."""
    from display.slide import citation_slide

    seen = {}
    for policy in POLICIES:
        (tmp_path / policy).mkdir()
        crossing = open_crossing(
            tmp_path / policy,
            open_store(f"sqlite:///{tmp_path / policy / 's.db'}"),
            finder,
            screens=screens(("s", 256, 128)),
            privacy=POLICIES[policy],
        )
        ids = [
            crossing.citation(person=("张伟明", "440301199001011234"), plate="粤B12345"),
            crossing.citation(person=("John Smith", "A1234567"), plate="YG9X2G"),
        ]
        with crossing.store.session() as session:
            seen[policy] = [
                citation_slide(
                    session,
                    crossing.evidence,
                    cid,
                    crossing.config.display.privacy,
                    crossing.billboards().locale,
                    lambda *_: People(),
                ).fields
                for cid in ids
            ]
    zh, en = seen["default"]
    assert (zh["name"], zh["national_id"], zh["plate"]) == ("张*明", None, "粤B***45")
    assert (en["name"], en["plate"]) == ("J*** S****", "YG**2G")
    zh, en = seen["open"]
    assert (zh["name"], zh["national_id"], zh["plate"]) == (
        "张伟明",
        "440***********0001",
        "粤B12345",
    )
    assert en["name"] == "John Smith"
    zh, en = seen["strict"]
    assert (zh["name"], zh["national_id"], en["name"]) == (None, None, None)


def test_golden_people_are_what_the_finder_reports(finder: PeopleFinder) -> None:
    """The boxes above are the finder's on the real photos, so the goldens show real blurs."""
    from display.picture import find_people

    policy = PrivacyPolicy()
    found = find_people(finder, photo("zidane.jpg", PICTURE_BOX), True, policy)
    assert _close((found.offender,), (ZIDANE.offender,))  # type: ignore[arg-type]
    assert _close(found.offender_faces, ZIDANE.offender_faces)
    assert _close(found.bystander_faces, ZIDANE.bystander_faces)
    assert _close(found.bystanders, ZIDANE.bystanders)
    car = find_people(finder, photo(CAR, CAR_BOX), False, policy)
    assert _close(car.plates, CAR_PEOPLE.plates) and not car.offender_faces


def _close(
    a: tuple[tuple[int, int, int, int], ...], b: tuple[tuple[int, int, int, int], ...]
) -> bool:
    return len(a) == len(b) and all(
        max(abs(p - q) for p, q in zip(x, y, strict=True)) <= 4 for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize(("width", "height"), [(256, 128), (1920, 1080), (1080, 1920)])
def test_the_picture_is_scaled_to_fit_without_distortion(width: int, height: int) -> None:
    from display.fonts import find_fonts

    screen = ScreenConfig(id="s", cameras=["c"], width_px=width, height_px=height)
    for picture_size in ((100, 300), (400, 100)):
        slide = Slide(
            "c",
            {"message": "m"} | _fields("Test Ave"),
            Image.new("RGB", picture_size, (255, 0, 255)),
        )
        frame = np.asarray(Renderer(find_fonts()).render(slide, screen))
        ys, xs = np.nonzero((frame == (255, 0, 255)).all(axis=2))
        drawn = (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)
        assert drawn == pytest.approx(picture_size[0] / picture_size[1], rel=0.03)
