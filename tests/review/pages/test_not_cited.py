"""Why not cited (issue 20): supervisors and auditors see the crossings the safeguards kept from
being cited, newest first, counted per safeguard and filtered by camera and safeguard; each opens
with its key frames and clip, served by the audited evidence route, and opening it is audited.
The crossings are the detect stage's own, on real frames of y2, recorded by the review stage."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.events import ViolationSuppressed, derived_id
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.store.registry import put_camera
from review.suppressed import SuppressedRecord
from tests.detectors.test_outcomes import grace_crossing, unknown_phase_crossing
from tests.review.conftest import Site, audit_rows, csrf_of, login


@pytest.fixture
def held(site: Site) -> list[ViolationSuppressed]:
    """A grace-period crossing on `cam` and, an hour later, an unknown-signal one on `cam-2`;
    their evidence in the console's store."""
    key = load_or_create_key(Path(site.console.config.storage.signing_key_path))
    detect = EvidenceStore(site.evidence.root, key)  # the console's own store only reads
    grace = grace_crossing(detect)
    unknown = unknown_phase_crossing(detect).model_copy(
        update={
            "event_id": derived_id("test", "unknown"),
            "camera_id": "cam-2",
            "occurred_at": grace.occurred_at + timedelta(hours=1),
        }
    )
    with site.store.session() as session:
        for camera in ("cam", "cam-2"):
            put_camera(session, camera, camera, "Test Ave")
    record = SuppressedRecord(site.store)
    for event in (grace, unknown):
        record.handle(event)
    return [grace, unknown]


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-event="([0-9a-f]+)"', page)


def count_of(page: str, safeguard: str) -> int:
    found = re.search(rf'data-safeguard="{safeguard}">[^<]*<strong>(\d+)</strong>', page)
    assert found, safeguard
    return int(found.group(1))


def test_a_supervisor_lists_them_newest_first_counted_and_filtered(
    site: Site, client: TestClient, held: list[ViolationSuppressed]
) -> None:
    grace, unknown = held
    login(client, "sam")
    assert 'href="/not-cited"' in client.get("/queue").text, "in the supervisor's menu"

    page = client.get("/not-cited").text

    assert rows_of(page) == [unknown.event_id, grace.event_id]
    assert count_of(page, "grace_period") == count_of(page, "unknown_phase") == 1
    assert count_of(page, "amber_too_short") == 0
    assert "within the 0.3 s grace period" in page and "signal phase unknown" in page
    frame = next(r for r in grace.evidence if r.role.startswith("key_frame:"))
    assert f'src="/evidence/{frame.sha256}"' in page, "a thumbnail of its key frame"

    by_safeguard = client.get("/not-cited", params={"safeguard": "grace_period"}).text
    assert rows_of(by_safeguard) == [grace.event_id]
    by_camera = client.get("/not-cited", params={"camera": "cam-2"}).text
    assert rows_of(by_camera) == [unknown.event_id]
    assert count_of(by_camera, "grace_period") == 0, "counted on the chosen camera"
    assert rows_of(client.get("/not-cited", params={"safeguard": "turn_allowed"}).text) == []


def test_opening_one_shows_its_evidence_and_is_audited(
    site: Site, client: TestClient, held: list[ViolationSuppressed]
) -> None:
    grace, _ = held
    login(client, "sam")

    page = client.get(f"/not-cited/{grace.event_id}")

    assert page.status_code == 200
    assert "Grace period" in page.text and "no citation was made" in page.text
    frames = [r for r in grace.evidence if r.role.startswith("key_frame:")]
    (clip,) = [r for r in grace.evidence if r.role == "clip"]
    for ref in [*frames, clip]:
        assert f'src="/evidence/{ref.sha256}"' in page.text
    (viewed,) = audit_rows(site, "suppressed.viewed")
    assert (viewed.actor, viewed.subject_type, viewed.subject_id) == (
        "sam",
        "suppressed_event",
        grace.event_id,
    )
    assert viewed.detail["safeguard"] == "grace_period"

    image = client.get(f"/evidence/{frames[0].sha256}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    video = client.get(f"/evidence/{clip.sha256}")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    fetched = {row.subject_id for row in audit_rows(site, "evidence.viewed")}
    assert {frames[0].sha256, clip.sha256} <= fetched
    assert client.get("/not-cited/" + "0" * 32).status_code == 404


def test_auditors_may_look_and_reviewers_may_not(
    client: TestClient, held: list[ViolationSuppressed]
) -> None:
    grace, _ = held
    login(client, "aud")
    assert rows_of(client.get("/not-cited").text) == [e.event_id for e in reversed(held)]
    assert client.get(f"/not-cited/{grace.event_id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(client)})

    login(client, "rita")
    assert 'href="/not-cited"' not in client.get("/queue").text
    assert client.get("/not-cited").status_code == 403
    assert client.get(f"/not-cited/{grace.event_id}").status_code == 403
