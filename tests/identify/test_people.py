"""The billboards' people finder on real photos with the deployment's own models (SSD, YuNet).

The finder is built from a demo config that neither tracks pedestrians nor matches faces: it
must find both anyway, since bystanders are blurred whatever the deployment identifies.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from identify.people import Box, PeopleFinder
from pipeline.config import parse_config
from pipeline.geometry import iou
from pipeline.images import read_image
from stopline.deployment import people_finder
from tests.detectors.photos import ultralytics_asset
from tests.shared_data import DATA, need

DEMO = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
CAST = DATA / "faces" / "t1.jpg"
ZIDANE_FACE = (553, 262, 656, 423)
ANCELOTTI_FACE = (916, 98, 1053, 273)
"""Read off the photo: the two men's faces (a third, blurred face in the crowd behind may be
found too, and belongs to no person box)."""


@pytest.fixture(scope="module")
def finder() -> PeopleFinder:
    """In the user's model cache, as the clip tests and the CLI use it: converting the SSD takes
    a dozen seconds."""
    data = yaml.safe_load(DEMO.read_text())
    data["detector"] = {"classes": ["car", "truck", "bus"]}
    config = parse_config(data, str(DEMO))
    assert "person" not in config.detector.classes
    assert config.identification.faces.enabled is False
    return people_finder(config)


@pytest.fixture(scope="module")
def zidane() -> np.ndarray:
    return read_image(ultralytics_asset("zidane.jpg"))


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    return read_image(ultralytics_asset("bus.jpg"))


def inside(inner: Box, outer: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def shrink(image: np.ndarray, width: int) -> np.ndarray:
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def test_both_men_and_their_faces_are_found(finder: PeopleFinder, zidane: np.ndarray) -> None:
    faces, persons, _ = finder.find(zidane, plates=False)
    assert len(persons) == 2 and len(faces) >= 2
    for known in (ZIDANE_FACE, ANCELOTTI_FACE):
        assert max(iou(known, f) for f in faces) > 0.6, faces
    # Each man's box holds exactly one face, and a different one: his own.
    held = [[f for f in faces if inside(f, p)] for p in persons]
    assert [len(h) for h in held] == [1, 1], (faces, persons)
    assert held[0] != held[1]


def test_a_small_crop_of_one_pedestrian_still_finds_him(
    finder: PeopleFinder, bus: np.ndarray
) -> None:
    crop = shrink(bus[370:920, 30:250], 100)  # the man on the left, 100x250 px
    height, width = crop.shape[:2]
    faces, persons, _ = finder.find(crop, plates=False)
    (person,) = persons
    assert (person[2] - person[0]) * (person[3] - person[1]) > 0.5 * width * height
    (face,) = faces
    assert inside(face, person) and face[3] < person[1] + 0.3 * (person[3] - person[1])


def test_a_tiny_picture_is_enlarged_for_faces_and_mapped_back(finder: PeopleFinder) -> None:
    """Shrunk to 100x69 px the six faces are 7-10 px wide; YuNet alone finds half of them."""
    full = read_image(need(CAST))
    tiny = shrink(full, 100)
    scale = tiny.shape[1] / full.shape[1]
    full_faces, _, _ = finder.find(full, plates=False)
    faces, persons, _ = finder.find(tiny, plates=False)
    assert len(faces) == 6 and len(persons) == 6
    # Back in the tiny picture's pixels: each face sits where one of the full photo's faces is.
    for x1, y1, x2, y2 in faces:
        cx, cy = (x1 + x2) / 2 / scale, (y1 + y2) / 2 / scale
        assert any(f[0] <= cx <= f[2] and f[1] <= cy <= f[3] for f in full_faces), faces


def gradient() -> np.ndarray:
    """A plain 400x300 colour ramp: blue left to right, green top to bottom."""
    x, y = np.meshgrid(np.linspace(0, 255, 400), np.linspace(0, 255, 300))
    return np.dstack([x, y, np.full_like(x, 128)]).astype(np.uint8)


@pytest.mark.parametrize("picture", ["bus side", "gradient"])
def test_nobody_in_the_picture_finds_nobody(
    finder: PeopleFinder, bus: np.ndarray, picture: str
) -> None:
    image = bus[230:700, 300:800] if picture == "bus side" else gradient()
    faces, persons, _ = finder.find(np.ascontiguousarray(image), plates=False)
    # Plates are not asserted: the lettering on the bus's side may read as one, and blurring
    # it costs nothing.
    assert (faces, persons) == ([], [])


@pytest.mark.parametrize("name", ["zidane", "bus", "cast", "cast shrunk", "obama", "bus corner"])
def test_boxes_are_whole_pixels_inside_the_picture(
    finder: PeopleFinder, zidane: np.ndarray, bus: np.ndarray, name: str
) -> None:
    image = {
        "zidane": zidane,
        "bus": bus,
        "cast": read_image(need(CAST)),
        "cast shrunk": shrink(read_image(need(CAST)), 150),
        "obama": read_image(need(DATA / "faces" / "obama.jpg")),
        "bus corner": np.ascontiguousarray(
            bus[600:, 600:]
        ),  # the right-hand man below the chest: no face
    }[name]
    height, width = image.shape[:2]
    faces, persons, plates = finder.find(image, plates=True)
    assert persons and (faces or name == "bus corner"), (faces, persons)
    for box in faces + persons + plates:
        assert type(box) is tuple and len(box) == 4 and all(type(v) is int for v in box), box
        x1, y1, x2, y2 = box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (box, image.shape)


def test_the_plate_of_a_car_is_found_where_it_is(finder: PeopleFinder) -> None:
    """A real US car (plates-openalpr, plate YG9X2G at 935,362 99x49) cut to the car: the
    plate box covers the labelled plate, and the empty road beside it has none."""
    photo = read_image(
        need(DATA / "plates-openalpr" / "us" / "0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg")
    )
    car = np.ascontiguousarray(photo[0:540, 780:1920])
    _, _, plates = finder.find(car, plates=True)
    truth = (935 - 780, 362, 935 - 780 + 99, 362 + 49)
    assert any(iou(box, truth) > 0.5 for box in plates), (plates, truth)
    assert finder.find(car, plates=False)[2] == []  # not looked for when not asked
    _, _, road = finder.find(np.ascontiguousarray(photo[600:1080, 0:700]), plates=True)
    assert road == []
