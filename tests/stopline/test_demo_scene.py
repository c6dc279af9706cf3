"""The demo scene and the demo config describe the same street, and its script offends on time."""

import numpy as np

from detectors.signals import FixedPlan
from identify.plates import MIN_PLATE_HEIGHT_PX, registry_plate
from pipeline.config import load_config
from stopline.demo import frames, scene
from stopline.demo.run import DEMO_CONFIG


def test_config_geometry_matches_what_the_scene_draws() -> None:
    geo = load_config(DEMO_CONFIG).cameras[0].geometry
    [stop] = geo.stop_lines
    assert {x for x, _ in stop.points} == {scene.STOP_X} and stop.approach == scene.APPROACH
    [zebra] = geo.crosswalks
    assert sorted({x for x, _ in zebra.polygon}) == list(scene.ZEBRA_X)
    assert zebra.approach is None  # unsignalised: walking on it is always allowed
    [road] = geo.carriageways
    assert sorted({y for _, y in road.polygon}) == [scene.FAR_KERB_Y, scene.NEAR_KERB_Y]
    assert geo.signal_heads[0].roi_px == scene.SIGNAL_ROI


def test_the_script_offends_where_the_rules_can_see_it() -> None:
    cfg = load_config(DEMO_CONFIG)
    plan = FixedPlan(cfg.cameras[0].signal)
    kinds = sorted(o.kind for o in scene.EXPECTED)
    assert kinds == ["jaywalk", "red_light"]
    for offence in scene.EXPECTED:
        if offence.kind == "red_light":
            phase = plan.phase_at(scene.APPROACH, offence.at_s)
            assert phase.phase == "red"
            assert phase.time_in_phase(offence.at_s) > cfg.rules.red_light.grace_s + 1
    assert len(scene.COMPLIANT) >= 2
    assert {u.is_vehicle for u in scene.COMPLIANT} == {True, False}


def test_only_the_red_light_runner_carries_a_plate_the_region_accepts() -> None:
    """The plate is a real format of the configured region, and drawn on the vehicle's sprite
    itself (so it moves and scales with it), large enough for the reader's minimum height."""
    cfg = load_config(DEMO_CONFIG)
    [plated] = [u for u in scene.ROAD_USERS if u.plate]
    assert plated.expected == "red_light" and plated.is_vehicle
    assert plated.plate == scene.RED_LIGHT_PLATE
    assert registry_plate(scene.RED_LIGHT_PLATE, cfg.identification.plates.region) == "KHX4729"
    plain, _ = frames._cutout(plated.photo)
    drawn, alpha = frames._plated(plated.photo, scene.RED_LIGHT_PLATE)
    changed = np.argwhere((plain != drawn).any(axis=2))
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    width, height = scene.PLATE_SIZE_PX
    assert (right - left + 1, bottom - top + 1) == (width, height)
    assert (alpha[top : bottom + 1, left : right + 1] == 1.0).all()
    on_screen = height * plated.height_px / plain.shape[0]
    assert on_screen >= 1.5 * MIN_PLATE_HEIGHT_PX
