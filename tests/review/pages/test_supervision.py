"""Supervisors can undo a reviewer's decision, settle appeals and see notices that need a person."""

from fastapi.testclient import TestClient

from notifier.outbox import enqueue_unsendable
from pipeline.events import CITATIONS_DISMISSED
from pipeline.store import Status, transition
from tests.review.conftest import Site, citation_of, csrf_of, login


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


def test_notices_that_need_a_person_show_up_for_supervisors(site: Site, client: TestClient) -> None:
    with site.store.session() as session:
        enqueue_unsendable(session, site.ids[1], "phone '12345': not a number")
    login(client, "sam")
    page = client.get("/notices").text
    assert site.ids[1][:8] in page and "phone &#39;12345&#39;: not a number" in page
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, "rita")
    assert client.get("/notices").status_code == 403
