"""A reviewer sees the evidence a decision needs, decides once, and leaves an audit trail."""

import re

from fastapi.testclient import TestClient

from benchmarks import review_cases
from pipeline.events import CITATIONS_APPROVED, CITATIONS_REJECTED
from pipeline.store import Status, verify_chain
from pipeline.store.models import Citation
from review.cases import approve
from tests.review.conftest import Site, audit_rows, citation_of, csrf_of, login


def test_queue_is_oldest_first_with_filters_and_counts(site: Site, client: TestClient) -> None:
    login(client, "rita")
    page = client.get("/queue").text
    assert "Pending review: 6" in page
    order = re.findall(r'<a href="/cases/([0-9a-f]+)">', page)
    assert order == site.ids, "oldest first"
    listed = audit_rows(site, "citations.listed")
    assert {(r.actor, r.detail["shown"]) for r in listed} == {("rita", 6)}, "plates seen: audited"
    assert "north-cam: 3" in page and "east-cam: 3" in page
    north = client.get("/queue?camera=north-cam").text
    assert "Pending review: 3" in north
    assert re.findall(r'<a href="/cases/([0-9a-f]+)\?', north) == site.ids[0::2]
    jaywalks = client.get("/queue?kind=jaywalk").text
    assert "Pending review: 2" in jaywalks  # indices 0 and 3
    day = review_cases.EPOCH.date().isoformat()
    assert "Pending review: 6" in client.get(f"/queue?date_from={day}&date_to={day}").text
    assert "Pending review: 0" in client.get("/queue?date_from=2030-01-01").text
    sure = client.get("/queue?min_confidence=0.9").text
    expected = sum(1 for i in range(6) if 0.6 + 0.4 * ((i * 37) % 100) / 100 >= 0.9)
    assert f"Pending review: {expected}" in sure


def test_the_queue_finds_a_case_by_plate_notice_or_citation_number(
    site: Site, client: TestClient
) -> None:
    login(client, "rita")
    third = site.ids[2]
    plate = citation_of(site, third).plate_text
    assert plate is not None

    def found(search: str) -> list[str]:
        page = client.get("/queue", params={"search": search})
        return re.findall(r'<a href="/cases/([0-9a-f]+)\?', page.text)

    assert found(plate.lower()) == [third], "a plate, in any case"
    assert found(plate[-3:]) == [third], "part of a plate"
    assert found(third[:8]) == [third], "the start of a citation id, as the pages print it"
    assert found("KX%") == [], "no wildcards"
    with site.store.session() as session:
        approve(session, third, "rita")
        notice = session.get(Citation, third).notice_number  # type: ignore[union-attr]
    listed = client.get("/api/v1/citations", params={"status": "approved", "search": notice})
    assert [c["id"] for c in listed.json()["items"]] == [third], "a notice number, by the API"
    page = client.get("/queue").text
    assert "1.5 s" in page, "time into red"
    assert re.search(r'<td class="age">\d+ (min|h|d)</td>', page), "how long each has waited"


def test_case_page_shows_the_evidence_and_audits_the_view(site: Site, client: TestClient) -> None:
    login(client, "rita")
    first = site.ids[2]  # a car's, with a keeper (review_cases: case 0 is a pedestrian's)
    page = client.get(f"/cases/{first}")
    assert page.status_code == 200
    html = page.text
    assert "KX00002" in html and "Keeper 2" in html and "+49300000002" in html
    assert "confidence" in html and "5 of 8 frames voted" in html
    images = re.findall(r'<img[^>]+src="/evidence/([0-9a-f]{64})"', html)
    clip = re.search(r'<video[^>]+src="/evidence/([0-9a-f]{64})"', html)
    assert len(images) >= 3 and clip is not None
    video = client.get(f"/evidence/{clip.group(1)}")
    assert video.headers["content-type"] == "video/mp4"
    assert video.content == review_cases.CLIP.read_bytes()
    image = client.get(f"/evidence/{images[0]}")
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"] == "no-store"
    assert f'data-next="/cases/{site.ids[3]}' in html, "the next case is known"
    assert 'rel="prefetch"' in html, "and its images are preloaded"
    views = audit_rows(site, "citation.viewed")
    assert [(v.actor, v.subject_id, v.detail["purpose"]) for v in views] == [
        ("rita", first, "review")
    ]
    assert audit_rows(site, "evidence.viewed")


def test_approve_and_reject_move_on_and_announce(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    first, second = site.ids[:2]
    approved = client.post(
        f"/cases/{first}/approve", data={"csrf_token": token}, follow_redirects=False
    )
    assert approved.headers["location"].startswith(f"/cases/{second}")
    assert citation_of(site, first).status == Status.APPROVED
    assert citation_of(site, first).decided_by == "rita"
    no_reason = client.post(
        f"/cases/{second}/reject", data={"csrf_token": token}, follow_redirects=False
    )
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/cases/{second}/reject",
        data={"csrf_token": token, "reason": "emergency_vehicle", "note": "ambulance"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    citation = citation_of(site, second)
    assert citation.status == Status.REJECTED
    assert citation.decision_reason == "emergency_vehicle: ambulance"
    again = client.post(
        f"/cases/{first}/approve", data={"csrf_token": token}, follow_redirects=False
    )
    assert "error=" in again.headers["location"], "a decided case cannot be decided again"
    assert [e.citation_id for e in site.published(CITATIONS_APPROVED)] == [first]
    assert [e.reason for e in site.published(CITATIONS_REJECTED)] == ["emergency_vehicle"]
    with site.store.session() as session:
        assert verify_chain(session).ok


def test_plate_correction_looks_the_keeper_up_again(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    case = site.ids[1]  # KX00001 has no keeper
    assert citation_of(site, case).person_id is None
    response = client.post(
        f"/cases/{case}/plate",
        data={"csrf_token": token, "plate": "kx-00002"},
        follow_redirects=False,
    )
    assert response.headers["location"] == f"/cases/{case}?done=plate+corrected"
    citation = citation_of(site, case)
    assert citation.plate_text == "KX00002" and citation.person_id == "P000002"
    assert citation.corrected and citation.plate_confidence is None
    lookup = audit_rows(site, "identity_lookup")[-1]
    assert lookup.actor == "rita" and lookup.detail["result"] == "match"
    change = audit_rows(site, "citation.corrected")[-1]
    assert change.detail["before"] == {"plate": "KX00001", "person_id": None}
    bad = client.post(
        f"/cases/{case}/plate", data={"csrf_token": token, "plate": "!!"}, follow_redirects=False
    )
    assert "error=" in bad.headers["location"]
    person = client.post(
        f"/cases/{case}/person",
        data={"csrf_token": token, "person_id": "P000004"},
        follow_redirects=False,
    )
    assert person.status_code == 303 and citation_of(site, case).person_id == "P000004"


def test_who_corrects_whom_a_case_names_cannot_approve_it_on_the_page_or_the_api(
    site: Site, client: TestClient
) -> None:
    """Issue 18: one reviewer corrected the identity and approved at once; the SMS and
    billboard were queued before any second person had looked."""
    token = login(client, "rita")
    case = site.ids[1]
    client.post(f"/cases/{case}/person", data={"csrf_token": token, "person_id": "P000004"})
    page = client.post(f"/cases/{case}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert "another+person+must+approve+it" in page.headers["location"]
    api = client.post(
        f"/api/v1/citations/{case}/decisions",
        json={"decision": "approve"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 409 and "another person must approve it" in api.text
    assert citation_of(site, case).status == Status.PENDING_REVIEW
    assert site.published(CITATIONS_APPROVED) == []
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = login(client, "sam")  # a second person looks, and approves
    client.post(f"/cases/{case}/approve", data={"csrf_token": token})
    assert citation_of(site, case).status == Status.APPROVED
    own = client.post(
        f"/cases/{case}/second-review", data={"csrf_token": token}, follow_redirects=False
    )
    assert "neither+decided+nor+corrected" in own.headers["location"], "not his own decision"
