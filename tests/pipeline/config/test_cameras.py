"""A camera's evidence stream must be matchable to its analysis source by stream time."""

from tests.pipeline.config.helpers import demo_data, problems


def test_evidence_source_must_be_read_like_the_source() -> None:
    data = demo_data()
    data["cameras"][0]["evidence_source"] = "rtsp://cam.local/main"
    lines = problems(data)
    assert len(lines) == 1 and lines[0].startswith("cameras[0].evidence_source: "), lines
    assert "a file when source is a file" in lines[0]
