"""Assignment by camera (issue 20): a supervisor puts a reviewer on cameras; the reviewer's
queue and "next" then hold only those cameras' cases until they ask for every camera; every
change is audited and only cameras and reviewers that exist can be assigned."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.review.conftest import Site, audit_rows, login


def post(client: TestClient, path: str, token: str, **form: str) -> str:
    """The page the form's redirect lands on."""
    return client.post(path, data={"csrf_token": token, **form}).text


def test_a_reviewer_works_the_cameras_a_supervisor_gave_them(site: Site) -> None:
    north = site.ids[0::2]  # review_cases: even cases on north-cam, odd on east-cam
    with (
        TestClient(site.app, base_url="http://127.0.0.1") as sam,
        TestClient(site.app, base_url="http://127.0.0.1") as rita,
    ):
        token = login(sam, "sam")
        login(rita, "rita")
        assert "Pending review: 6" in rita.get("/queue").text, "nobody assigned: every case"
        page = post(sam, "/assignments", token, camera_id="north-cam", reviewer="rita")
        assert "rita on north-cam" in page
        assert re.search(r'data-camera="north-cam"><td>north-cam</td><td>\s*<form', page)
        queue = rita.get("/queue").text
        assert "Pending review: 3" in queue and "Your cameras: north-cam" in queue
        assert set(re.findall(r'<a href="/cases/([0-9a-f]+)"', queue)) == set(north)
        case = rita.get(f"/cases/{north[0]}").text
        assert f'data-next="/cases/{north[1]}' in case, "next skips the other camera's case"
        assert "Pending review: 6" in rita.get("/queue?every_camera=1").text
        assert (
            f'data-next="/cases/{site.ids[1]}' in rita.get(f"/cases/{north[0]}?every_camera=1").text
        )
        assert "no camera &#39;west-cam&#39;" in post(
            sam, "/assignments", token, camera_id="west-cam", reviewer="rita"
        )
        assert "not an active reviewer" in post(
            sam, "/assignments", token, camera_id="east-cam", reviewer="aud"
        )
        page = post(sam, "/assignments/remove", token, camera_id="north-cam", reviewer="rita")
        assert "rita off north-cam" in page
        assert "Pending review: 6" in rita.get("/queue").text
    made = [(r.actor, r.subject_id, r.detail) for r in audit_rows(site, "camera.assigned")]
    assert made == [("sam", "north-cam", {"reviewer": "rita"})]
    assert len(audit_rows(site, "camera.unassigned")) == 1


def test_only_a_supervisor_assigns(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    refused = client.post(
        "/assignments", data={"csrf_token": token, "camera_id": "north-cam", "reviewer": "rita"}
    )
    assert refused.status_code == 403
    assert audit_rows(site, "camera.assigned") == []
