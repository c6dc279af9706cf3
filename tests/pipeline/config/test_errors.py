"""A refused config names each bad key by its YAML path, one line each, so it is fixed at once."""

from tests.pipeline.config.helpers import demo_data, problems


def test_three_problems_three_lines() -> None:
    data = demo_data()
    data["rules"]["red_light"]["grace_seconds"] = 0.5
    data["cameras"][0]["analysis_fps"] = "fast"
    data["cameras"][0]["geometry"]["crosswalks"][0]["polygon"] = [[1, 2], [3, 4]]
    lines = problems(data)
    assert len(lines) == 3
    assert lines[0].startswith("cameras[0].analysis_fps: found 'fast'; expected a valid number")
    assert (
        lines[1]
        == "cameras[0].geometry.crosswalks[0].polygon: found 2 item(s); expected at least 3"
    )
    assert lines[2].startswith("rules.red_light.grace_seconds: found an unknown key")
    assert "grace_s" in lines[2]


def test_enum_path_names_the_list_index() -> None:
    data = demo_data()
    line = data["cameras"][0]["geometry"]["stop_lines"][0]
    data["cameras"][0]["geometry"]["stop_lines"].append({**line, "id": "s2", "direction": "north"})
    assert problems(data) == [
        "cameras[0].geometry.stop_lines[1].direction: found 'north'; "
        "expected 'up', 'down', 'left' or 'right'"
    ]
