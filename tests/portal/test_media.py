"""The evidence the fined person watches: bystanders and other plates blurred on real photos
and a real clip by the deployment's own people finder, the offender left as recorded; made
once per case from verified evidence, and served to that case's visitor only."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from identify.people import PeopleFinder
from pipeline.geometry import iou
from pipeline.images import jpeg, read_image
from pipeline.redaction import Box, centre_in
from pipeline.store.citizen import portal_media
from pipeline.store.models import AuditEntry, Citation, Violation
from pipeline.video import decode_mp4, encode_mp4
from portal.media import Redactor
from portal.stage import PortalMediaStage
from tests.detectors.photos import ultralytics_asset
from tests.portal.conftest import Fined, portal_login
from tests.shared_data import DATA, need

CAR = "plates-openalpr/us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg"
CAR_BOX = (780, 0, 1920, 540)
"""The car in that photo; its plate is at about (935, 362, 1034, 411)."""


def changed(before: np.ndarray, after: np.ndarray, box: Box) -> float:
    """Mean absolute change of the pixels in `box`."""
    x1, y1, x2, y2 = box
    return float(np.abs(before[y1:y2, x1:x2].astype(int) - after[y1:y2, x1:x2]).mean())


def redacted(finder: PeopleFinder, image: np.ndarray, offender: Box | None) -> np.ndarray:
    data = Redactor(finder, image.shape[0]).key_frame(
        jpeg(image), None if offender is None else list(offender)
    )
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_a_bystanders_face_is_blurred_and_the_offenders_is_not(finder: PeopleFinder) -> None:
    zidane = read_image(ultralytics_asset("zidane.jpg"))
    faces, persons, _ = finder.find(zidane, plates=False)
    offender = max(persons, key=lambda p: p[0])  # Zidane, on the right
    out = redacted(finder, zidane, offender)
    theirs = [f for f in faces if centre_in(f, offender)]
    others = [f for f in faces if not centre_in(f, offender)]
    assert theirs and others, faces
    assert all(changed(zidane, out, f) < 6 for f in theirs), "only JPEG's own loss"
    assert all(changed(zidane, out, f) > 10 for f in others)
    again, _, _ = finder.find(out, plates=False)
    assert [f for f in again if not centre_in(f, offender)] == [], "no bystander face is left"
    assert any(iou(f, theirs[0]) > 0.6 for f in again), "the offender's face is still there"


def test_without_an_offender_box_everyone_is_blurred(finder: PeopleFinder) -> None:
    zidane = read_image(ultralytics_asset("zidane.jpg"))
    out = redacted(finder, zidane, None)
    assert finder.find(out, plates=False)[0] == []


def test_another_vehicles_plate_is_blurred_the_offenders_is_not(finder: PeopleFinder) -> None:
    car = read_image(need(DATA / CAR))
    _, _, plates = finder.find(car, plates=True)
    on_car = [p for p in plates if centre_in(p, CAR_BOX)]
    assert on_car, plates
    kept = redacted(finder, car, CAR_BOX)
    assert all(changed(car, kept, p) < 6 for p in on_car)
    elsewhere = (0, 0, 700, 540)  # the offender is another vehicle: this plate is a stranger's
    blurred = redacted(finder, car, elsewhere)
    assert all(changed(car, blurred, p) > 10 for p in on_car)
    assert not [p for p in finder.find(blurred, plates=True)[2] if centre_in(p, CAR_BOX)]


def moving_clip(frames: int, step_px: int) -> tuple[bytes, list[np.ndarray]]:
    """zidane.jpg panned `step_px` a frame: faces move as a passer-by's would."""
    photo = read_image(ultralytics_asset("zidane.jpg"))
    photo = cv2.resize(photo, (640, 360), interpolation=cv2.INTER_AREA)
    wide = np.hstack([photo, photo])
    shots = [np.ascontiguousarray(wide[:, i * step_px : i * step_px + 640]) for i in range(frames)]
    return encode_mp4(iter(shots), 12.0), shots


def test_every_frame_of_a_clip_is_blurred_also_between_the_searched_ones(
    finder: PeopleFinder,
) -> None:
    clip, shots = moving_clip(frames=13, step_px=12)
    searched = [finder.find(s, plates=False)[0] for s in shots]
    assert all(searched), "the faces are findable in the clip as made"
    redactor = Redactor(finder, 360)
    fps, frames = decode_mp4(redactor.clip(clip, [], sample_fps=3.0))  # every 4th frame
    out = list(frames)
    assert fps == pytest.approx(12.0) and len(out) == len(shots)
    for i, (shot, frame) in enumerate(zip(shots, out, strict=True)):
        for face in searched[i]:
            assert changed(shot, frame, face) > 15, (i, face)


def test_an_approved_case_gets_its_media_once(fined: Fined, media_stage: PortalMediaStage) -> None:
    made = media_stage.make(fined.citation_id)
    assert sorted(f.role for f in made) == [
        "portal:clip",
        "portal:key_frame:entry_line",
        "portal:key_frame:stop_line",
    ]
    assert media_stage.make(fined.citation_id) == [], "made once"
    pending = fined.site.ids[0]
    assert media_stage.make(pending) == [], "not approved: nothing to show anyone"
    store = fined.site.store
    with store.session() as session:
        citation = session.get(Citation, fined.citation_id)
        assert citation is not None
        listed = portal_media(citation)
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "portal_media.made"))
        (row,) = rows.all()
    assert {f["sha256"] for f in listed} == {f.sha256 for f in made}
    assert row.subject_id == fined.citation_id and row.detail["regions_blurred"] > 0
    clip = next(f for f in made if f.role == "portal:clip")
    fps, frames = decode_mp4(fined.site.evidence.get(clip.sha256))
    assert fps == pytest.approx(25.0) and sum(1 for _ in frames) == 292, "every frame kept"

    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    page = client.get("/case").text
    assert all(f"/media/{f.sha256}" in page for f in made)
    answer = client.get(f"/media/{clip.sha256}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    assert answer.content == fined.site.evidence.get(clip.sha256)
    with store.session() as session:
        violation = session.scalar(select(Violation))
        assert violation is not None
        original = violation.event["evidence"][0]["sha256"]
    assert client.get(f"/media/{original}").status_code == 404, "never the unblurred evidence"
    assert client.get("/media/" + "0" * 64).status_code == 404


def test_media_is_not_made_from_evidence_that_does_not_verify(
    fined: Fined, media_stage: PortalMediaStage
) -> None:
    with fined.site.store.session() as session:
        citation = session.get(Citation, fined.citation_id)
        assert citation is not None
        manifest = fined.site.evidence.manifest_path(citation.violation_id)
    document = json.loads(manifest.read_text())
    document["manifest"]["facts"]["frame_size"] = [1, 1]
    manifest.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="does not verify"):
        media_stage.make(fined.citation_id)
    with fined.site.store.session() as session:
        citation = session.get(Citation, fined.citation_id)
        assert citation is not None and portal_media(citation) == []


def test_the_case_page_says_the_media_is_coming(fined: Fined) -> None:
    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    assert 'id="evidence-pending"' in client.get("/case").text
