"""`stopline faces enroll` and `stopline faces identify`, run as a user would, on real photos."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.store import open_store
from pipeline.store.registry import add_person, face_gallery
from stopline.demo.run import DEMO_CONFIG
from tests.cli import stopline
from tests.shared_data import DATA, need

FACES = DATA / "faces"
MODEL = "sface:fb143eea0783"


def write_config(site: Path, name: str, faces_enabled: bool) -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": "sqlite:///stopline.db",
        "evidence_dir": "evidence",
        "signing_key_path": "key.pem",
    }
    data.setdefault("identification", {})["faces"] = {"enabled": faces_enabled}
    (site / name).write_text(yaml.safe_dump(data))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A deployment whose config keeps faces off (off.yaml) and one that turns them on (on.yaml),
    over one store in which the person `obama` is registered."""
    write_config(tmp_path, "off.yaml", faces_enabled=False)
    write_config(tmp_path, "on.yaml", faces_enabled=True)
    store = open_store(f"sqlite:///{tmp_path / 'stopline.db'}")
    try:
        with store.session() as session:
            add_person(session, "Barack Obama", person_id="obama")
    finally:
        store.close()
    return tmp_path


def embeddings(site: Path) -> list[tuple[str, str]]:
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    try:
        with store.session() as session:
            return [(row.person_id, row.source_sha256) for row in face_gallery(session, MODEL)]
    finally:
        store.close()


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    stderr = result.stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    return stderr


def test_enrol_then_identify(site: Path) -> None:
    obama = need(FACES / "obama.jpg")
    enrolled = stopline(
        "faces", "enroll", "--config", "off.yaml", "--person-id", "obama", str(obama), cwd=site
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert "obama: 1 face(s) enrolled, 0 already enrolled" in enrolled.stdout
    again = stopline(
        "faces", "enroll", "-c", "off.yaml", "--person-id", "obama", str(obama), cwd=site
    )
    assert "0 face(s) enrolled, 1 already enrolled" in again.stdout
    assert len(embeddings(site)) == 1

    probes = [need(FACES / n) for n in ("obama2.jpg", "biden.jpg")]
    result = stopline("faces", "identify", "-c", "on.yaml", *map(str, probes), "--json", cwd=site)
    assert result.returncode == 0, result.stderr
    second, biden = (json.loads(line) for line in result.stdout.splitlines())
    assert second["image"] == str(probes[0])
    (face,) = second["faces"]
    assert set(face) == {"box", "person_id", "score"}
    assert face["person_id"] == "obama" and face["score"] > 0.44
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    (stranger,) = biden["faces"]
    assert stranger["person_id"] is None and -1 <= stranger["score"] < 0.44

    plain = stopline("faces", "identify", "-c", "on.yaml", str(probes[1]), cwd=site)
    assert plain.returncode == 0 and "unidentified" in plain.stdout


def test_identify_refuses_where_faces_are_off(site: Path) -> None:
    probe = str(need(FACES / "obama2.jpg"))
    result = stopline("faces", "identify", "-c", "off.yaml", probe, cwd=site)
    assert result.returncode == 2
    assert "identification.faces.enabled: false" in one_line_error(result)
    assert result.stdout == ""


def test_enrolment_errors_name_the_problem_and_store_nothing(site: Path) -> None:
    group, obama = need(FACES / "t1.jpg"), need(FACES / "obama.jpg")
    not_an_image = site / "notes.jpg"
    not_an_image.write_text("not a photo")
    cases = [
        (("--person-id", "nobody", str(obama)), "no person 'nobody'"),
        (("--person-id", "obama", str(obama), str(group)), f"{group}: 4 usable faces"),
        (("--person-id", "obama", str(site / "missing.jpg")), "missing.jpg: cannot read"),
        (("--person-id", "obama", str(not_an_image)), "notes.jpg: not an image"),
    ]
    for args, message in cases:
        result = stopline("faces", "enroll", "-c", "off.yaml", *args, cwd=site)
        assert result.returncode == 1, (args, result.stderr)
        assert message in one_line_error(result)
    assert embeddings(site) == []
