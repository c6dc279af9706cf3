"""Signal heads read by their calibrated lamps: a synthetic head whose amber the camera shows at
a red hue, and the real Hanoi head (green, a dark amber, red) calibrated from its own clip."""

from datetime import timedelta
from itertools import groupby

import cv2
import numpy as np
import pytest
import yaml

from detectors.lamps import calibrate, classify_lamp, crop, read_lamps
from detectors.signals import VisionSignal
from detectors.sources import Frame
from pipeline.config import Geometry, SignalHead
from tests.cli import stopline
from tests.detectors.test_signals import START, camera
from tests.shared_data import DATA, need

HEAD = SignalHead(id="h", approach="a", roi_px=(100, 50, 20, 56))
CENTRES = {"red": (110, 60), "amber": (110, 78), "green": (110, 96)}
HUE = {"red": 175, "amber": 8, "green": 80}
"""OpenCV hues; the amber at 8 is where classify_lamp's red band is (an orange-red LED)."""


def head_frame(lit: str | None, housing: int = 40) -> np.ndarray:
    """A grey road with a dark three-lamp housing; `lit` glows with a white core."""
    image = np.full((200, 240, 3), 110, np.uint8)
    cv2.rectangle(image, (100, 50), (119, 105), (housing,) * 3, -1)
    for colour, centre in CENTRES.items():
        cv2.circle(image, centre, 6, (55, 55, 55), -1)
        if colour == lit:
            halo = cv2.cvtColor(np.uint8([[[HUE[colour], 255, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
            cv2.circle(image, centre, 6, tuple(int(v) for v in halo), -1)
            cv2.circle(image, centre, 2, (255, 255, 255), -1)
    return image


CYCLE = ["green"] * 20 + ["amber"] * 10 + ["red"] * 30 + [None] * 3 + ["green"] * 10


def runs(phases: list[str]) -> list[tuple[str, int]]:
    return [(phase, len(list(group))) for phase, group in groupby(phases)]


def test_an_amber_at_a_red_hue_is_read_as_amber_by_position() -> None:
    frames = [head_frame(lit) for lit in CYCLE]
    by_hue = [classify_lamp(crop(f, HEAD.roi_px)) for f in frames]
    assert runs(by_hue)[:2] == [("green", 20), ("red", 40)], "hue alone calls the amber red"

    fitted = calibrate([crop(f, HEAD.roi_px) for f in frames], HEAD)
    assert fitted.warnings == []
    assert [(lamp.colour, lamp.centre_px) for lamp in fitted.lamps] == [
        (colour, centre) for colour, centre in CENTRES.items()
    ]
    amber = next(fit for fit in fitted.fits if fit.lamp.colour == "amber")
    assert amber.hue_votes["red"] == 10, "named by its place on the head, not its hue"
    by_lamp = [read_lamps(f, fitted.lamps) for f in frames]
    assert runs(by_lamp) == [
        ("green", 20),
        ("amber", 10),
        ("red", 30),
        ("unknown", 3),
        ("green", 10),
    ]


def test_a_lamp_too_faint_to_tell_on_from_off_is_left_out() -> None:
    """Sun on the housing: the 'off' lamps are nearly as bright as a lit one."""
    frames = [head_frame(lit) for lit in CYCLE]
    for frame in frames[:20]:  # green lit, but the red lamp sunlit
        cv2.circle(frame, CENTRES["red"], 6, (235, 235, 235), -1)
    fitted = calibrate([crop(f, HEAD.roi_px) for f in frames], HEAD)
    assert "red" not in [lamp.colour for lamp in fitted.lamps]
    assert any("red lamp is left out" in w for w in fitted.warnings)
    assert read_lamps(frames[40], fitted.lamps) == "unknown", "a red it cannot read is unknown"


def test_the_hanoi_head_calibrated_from_its_clip_reads_what_a_person_read() -> None:
    """configs/clip-hanoi.yaml: green lit in frames 0-6, no lamp in 7-24, red from frame 25."""
    clip = need(DATA / "video" / "16h15.25.9.22.mp4")
    result = stopline("camera", "calibrate-signal", "--config", "configs/clip-hanoi.yaml")
    assert result.returncode == 0, result.stderr
    assert "amber never lit" in result.stderr
    (head,) = yaml.safe_load(result.stdout)["signal_heads"]
    lamps = SignalHead.model_validate(head).lamps
    assert [lamp.colour for lamp in lamps] == ["red", "green"]
    assert lamps[0].centre_px[1] < lamps[1].centre_px[1], "red above green"
    capture = cv2.VideoCapture(str(clip))
    phases = []
    while (frame := capture.read()[1]) is not None:
        phases.append(read_lamps(frame, lamps))
    assert runs(phases) == [("green", 7), ("unknown", 18), ("red", 359)]


def test_a_vision_signal_with_calibrated_lamps_times_the_amber_the_hue_missed() -> None:
    frames = [head_frame(lit) for lit in CYCLE]
    lamps = calibrate([crop(f, HEAD.roi_px) for f in frames], HEAD).lamps
    calibrated = HEAD.model_copy(update={"lamps": lamps, "approach": "nb"})
    by_hue = VisionSignal(camera("vision", roi=HEAD.roi_px), min_amber_s=3.0)
    by_lamp = VisionSignal(
        camera("vision").model_copy(update={"geometry": Geometry(signal_heads=[calibrated])}),
        min_amber_s=3.0,
    )
    for index, image in enumerate(frames):
        t = index / 10
        for vision in (by_hue, by_lamp):
            vision.update(Frame(index, t, START + timedelta(seconds=t), image))
    red = by_lamp.phase_at("nb", 4.0)
    assert (red.phase, red.onset_s, red.amber_s) == ("red", pytest.approx(3.0), pytest.approx(0.9))
    # By hue the amber is a red: red dated from the amber's start, after an amber of 0 s.
    wrong = by_hue.phase_at("nb", 4.0)
    assert (wrong.onset_s, wrong.amber_s) == (pytest.approx(2.0), 0.0)
