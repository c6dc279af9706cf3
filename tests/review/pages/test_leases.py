"""Case locking (issue 20): the reviewer who opens a pending case holds it; another sees it
taken, cannot decide it, and is not sent to it next; a lease expires and a decision ends it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipeline.store import Status
from pipeline.store.models import utcnow
from pipeline.store.reviewing import CaseLease
from tests.review.conftest import Site, citation_of, login


def other_client(site: Site) -> TestClient:
    return TestClient(site.app, base_url="http://127.0.0.1")


def lease_of(site: Site, citation_id: str) -> CaseLease | None:
    with site.store.session() as session:
        lease = session.get(CaseLease, citation_id)
        if lease is not None:
            session.expunge(lease)
        return lease


def test_a_case_opened_by_one_reviewer_is_taken_for_the_other(
    site: Site, client: TestClient
) -> None:
    first, second = site.ids[:2]
    rita = login(client, "rita")
    assert 'id="approve-form"' in client.get(f"/cases/{first}").text
    lease = lease_of(site, first)
    assert lease is not None and lease.holder == "rita"
    minutes = site.console.config.review.lease_minutes
    assert lease.expires_at - lease.taken_at == timedelta(minutes=minutes)

    with other_client(site) as sam_client:
        sam = login(sam_client, "sam")
        page = sam_client.get(f"/cases/{first}").text
        assert 'id="taken"' in page and "rita is reviewing this case until" in page
        assert 'id="approve-form"' not in page, "no decision bar on a taken case"
        refused = sam_client.post(
            f"/cases/{first}/approve", data={"csrf_token": sam}, follow_redirects=False
        )
        assert "error=" in refused.headers["location"]
        assert citation_of(site, first).status == Status.PENDING_REVIEW
        # The queue shows who holds it, and "next" from the case before passes it by.
        assert "rita until" in sam_client.get("/queue").text
        sam_client.get(f"/cases/{second}")
        holder = lease_of(site, second)
        assert holder is not None and holder.holder == "sam"
        assert f'data-next="/cases/{second}' not in client.get(f"/cases/{first}").text

    approved = client.post(
        f"/cases/{first}/approve", data={"csrf_token": rita}, follow_redirects=False
    )
    assert approved.status_code == 303 and "error=" not in approved.headers["location"]
    assert citation_of(site, first).status == Status.APPROVED
    assert lease_of(site, first) is None, "a decision ends the lease"
    # Rita's next case is not the one sam holds.
    assert f"/cases/{second}" not in approved.headers["location"]


def test_an_expired_lease_is_anybodys_and_the_old_holder_cannot_decide(
    site: Site, client: TestClient
) -> None:
    case = site.ids[0]
    rita = login(client, "rita")
    client.get(f"/cases/{case}")
    with site.store.session() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(CaseLease).values(expires_at=past))
    with other_client(site) as sam_client:
        sam = login(sam_client, "sam")
        assert 'id="approve-form"' in sam_client.get(f"/cases/{case}").text
        lease = lease_of(site, case)
        assert lease is not None and lease.holder == "sam"
        late = client.post(
            f"/cases/{case}/reject",
            data={"csrf_token": rita, "reason": "duplicate"},
            follow_redirects=False,
        )
        assert "error=" in late.headers["location"], "rita's lease ended; sam holds it now"
        decided = sam_client.post(
            f"/cases/{case}/reject",
            data={"csrf_token": sam, "reason": "duplicate"},
            follow_redirects=False,
        )
        assert "error=" not in decided.headers["location"]
    assert citation_of(site, case).status == Status.REJECTED
    with site.store.session() as session:
        assert session.scalars(select(CaseLease)).all() == []
