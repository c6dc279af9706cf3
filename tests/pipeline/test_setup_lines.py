"""The camera set-up a case is drawn with: the recorded one, else today's (and which it was),
scaled from analysed-frame to recorded-frame pixels."""

from pipeline.setup_lines import camera_setup, drawn_lines

GEOMETRY = {
    "stop_lines": [
        {"id": "s", "approach": "a", "points": [[10, 20], [110, 20]], "direction": "up"}
    ],
    "entry_lines": [{"id": "e", "stop_line": "s", "points": [[10, 5], [110, 5]]}],
    "crosswalks": [{"id": "z", "polygon": [[0, 0], [50, 0], [50, 10]]}],
}


def test_lines_are_scaled_to_the_recorded_frame() -> None:
    facts = {
        "camera_setup": {"geometry": GEOMETRY},
        "frame_size": [640, 480],
        "analysis_frame_size": [320, 240],
    }
    setup = camera_setup(None, facts)
    assert setup is not None and setup.origin == "recorded in the signed manifest with the evidence"
    stop, entry = drawn_lines(setup, facts, (0, 0))
    assert (stop.kind, stop.points) == ("stop", [(20.0, 40.0), (220.0, 40.0)])
    assert (entry.kind, entry.points) == ("entry", [(20.0, 10.0), (220.0, 10.0)])
    (zone,) = drawn_lines(setup, facts, (0, 0), ("crosswalk",))
    assert zone.points == [(0.0, 0.0), (100.0, 0.0), (100.0, 20.0)]


def test_older_evidence_falls_back_on_todays_set_up_and_says_so() -> None:
    today = {"geometry": GEOMETRY}
    setup = camera_setup(today, {})
    assert setup is not None and setup.origin.startswith("today's configuration")
    (stop, _) = drawn_lines(setup, {}, (320, 240))
    assert stop.points == [(10.0, 20.0), (110.0, 20.0)], "no sizes recorded: unscaled"
    moved = camera_setup(today, {"camera_setup": {"geometry": {**GEOMETRY, "crosswalks": []}}})
    assert moved is not None and "different from today's configuration" in moved.origin
    assert camera_setup(None, {}) is None
