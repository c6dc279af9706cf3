"""The demo scene and the demo config describe the same street, and its script offends on time."""

from detectors.signals import FixedPlan
from pipeline.config import load_config
from stopline.demo import scene
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
