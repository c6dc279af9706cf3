"""The console as a reviewer, supervisor and auditor use it, over HTTP against the real store:
queue order and filters, the case page, decisions, corrections, second review, appeals, the
JSON API, evidence downloads, metrics, and the audit rows all of it leaves."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks import review_cases
from notifier.outbox import enqueue_unsendable
from pipeline.events import CITATIONS_APPROVED, CITATIONS_DISMISSED, CITATIONS_REJECTED
from pipeline.store import Status, transition, verify_chain
from pipeline.store.models import AuditEntry
from tests.review.conftest import PASSWORD, Site, citation_of, csrf_of, login


def audit_rows(site: Site, action: str) -> list[AuditEntry]:
    with site.store.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_login_lands_each_role_on_its_page(site: Site, client: TestClient) -> None:
    for name, home in (("rita", "/queue"), ("aud", "/audit"), ("adam", "/admin/users")):
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.headers["location"] == home
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert len(audit_rows(site, "login")) == 3
    assert len(audit_rows(site, "logout")) == 3
    assert client.get("/queue", follow_redirects=False).status_code == 303, "logged out"


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


def test_case_page_shows_the_evidence_and_audits_the_view(site: Site, client: TestClient) -> None:
    login(client, "rita")
    first = site.ids[0]
    page = client.get(f"/cases/{first}")
    assert page.status_code == 200
    html = page.text
    assert "KX00000" in html and "Keeper 0" in html and "+49300000000" in html
    assert "confidence" in html and "5 of 8 frames voted" in html
    images = re.findall(r'<img[^>]+src="/evidence/([0-9a-f]{64})"', html)
    clip = re.search(r'<video[^>]+src="/evidence/([0-9a-f]{64})"', html)
    assert len(images) >= 3 and clip is not None
    video = client.get(f"/evidence/{clip.group(1)}")
    assert video.headers["content-type"] == "video/mp4"
    assert video.content == review_cases.CLIP.read_bytes()
    assert client.get(f"/evidence/{images[0]}").headers["content-type"] == "image/jpeg"
    assert f'data-next="/cases/{site.ids[1]}' in html, "the next case is known"
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


def test_supervisor_second_review_and_appeals(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    first, second = site.ids[:2]
    client.post(f"/cases/{first}/approve", data={"csrf_token": token})
    client.post(f"/cases/{second}/reject", data={"csrf_token": token, "reason": "duplicate"})
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert client.get("/second-review", follow_redirects=False).status_code == 303

    token = login(client, "sam")
    listed = client.get("/second-review").text
    assert second[:8] in listed and first[:8] not in listed
    client.post(f"/cases/{second}/reopen", data={"csrf_token": token, "reason": "not a duplicate"})
    assert citation_of(site, second).status == Status.PENDING_REVIEW

    with site.store.session() as session:
        transition(session, first, Status.NOTIFIED, "system:notifier")
    client.post(f"/cases/{first}/appeal", data={"csrf_token": token, "reason": "letter 17"})
    assert citation_of(site, first).status == Status.APPEALED
    assert first[:8] in client.get("/appeals").text
    client.post(
        f"/cases/{first}/appeal-decision",
        data={"csrf_token": token, "decision": "dismiss", "reason": "signal fault on that day"},
    )
    assert citation_of(site, first).status == Status.DISMISSED
    dismissed = site.published(CITATIONS_DISMISSED)
    assert [(e.citation_id, e.supervisor) for e in dismissed] == [(first, "sam")]


def test_auditor_reads_the_log_and_verifies_the_chain(site: Site, client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/audit?verify=true").text
    assert "Chain intact" in page
    assert "citation.created" in page
    case = client.get(f"/cases/{site.ids[0]}").text
    assert "KX00000" in case and 'id="approve-form"' not in case, "auditors only read"
    assert audit_rows(site, "citation.viewed")[-1].detail["purpose"] == "audit"
    assert client.get("/queue").status_code == 403


def test_json_api_lists_gets_and_decides(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    listing = client.get("/api/v1/citations?page_size=4").json()
    assert listing["total"] == 6 and len(listing["items"]) == 4
    assert [item["id"] for item in listing["items"]] == site.ids[:4]
    rest = client.get(listing["next"]).json()
    assert [item["id"] for item in rest["items"]] == site.ids[4:] and rest["next"] is None
    detail = client.get(f"/api/v1/citations/{site.ids[0]}").json()
    assert detail["person"]["name"] == "Keeper 0" and detail["plate_text"] == "KX00000"
    ref = next(e for e in detail["evidence"] if e["role"] == "clip")
    assert client.get(ref["url"]).content == review_cases.CLIP.read_bytes()
    refused = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions", json={"decision": "approve"}
    )
    assert refused.status_code == 403, "no CSRF header"
    decided = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions",
        json={"decision": "approve"},
        headers={"X-CSRF-Token": token},
    )
    assert decided.status_code == 200
    assert [t["to_state"] for t in decided.json()] == ["detected", "pending_review", "approved"]
    conflict = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions",
        json={"decision": "reject", "reason": "duplicate"},
        headers={"X-CSRF-Token": token},
    )
    assert conflict.status_code == 409
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/citations/{citation_id}/decisions" in spec["paths"]
    assert "/api/v1/citations" in client.get("/api/v1/docs").text


def test_metrics_and_health(site: Site, client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    token = login(client, "rita")
    client.post(f"/cases/{site.ids[0]}/approve", data={"csrf_token": token})
    client.post(f"/cases/{site.ids[1]}/reject", data={"csrf_token": token, "reason": "duplicate"})
    assert client.get("/metrics").status_code == 403, "reviewers do not read metrics"
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, "adam")
    text = client.get("/metrics").text
    assert "stopline_review_queue_length 4.0" in text
    assert 'stopline_review_decisions_last_hour{decision="approved"} 1.0' in text
    assert "stopline_review_approval_ratio 0.5" in text
    assert 'stopline_stage_latency_seconds_count{stage="detect_to_citation"} 6.0' in text
    assert (
        'stopline_review_request_seconds_count{route="POST /cases/{citation_id}/approve"}' in text
    )


def test_notices_that_need_a_person_show_up_for_supervisors(site: Site, client: TestClient) -> None:
    with site.store.session() as session:
        enqueue_unsendable(session, site.ids[1], "phone '12345': not a number")
    login(client, "sam")
    page = client.get("/notices").text
    assert site.ids[1][:8] in page and "phone &#39;12345&#39;: not a number" in page
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, "rita")
    assert client.get("/notices").status_code == 403
