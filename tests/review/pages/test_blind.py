"""Blind double review (issue 20): a sampled case changes only when two reviewers, the second
not seeing the first's decision, agree; where they disagree a supervisor decides; agreement is
counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.store import Role, Status
from pipeline.store.models import CitationTransition
from pipeline.store.registry import add_user
from pipeline.store.reviewing import BlindReview
from review.cases.blind import agreement, sampled
from review.passwords import hash_password
from tests.review.conftest import PASSWORD, Site, citation_of, login, make_site


@pytest.fixture
def sampled_site(tmp_path: Path) -> Iterator[Site]:
    made = make_site(tmp_path, cases=2, double_review_share=1.0)  # every case in the sample
    with made.store.session() as session:
        add_user(session, "sue", hash_password(PASSWORD), Role.SUPERVISOR)
    yield made
    made.bus.close()
    made.store.close()


def decide(site: Site, name: str, citation_id: str, verb: str) -> str:
    """One person's decision through the page; where the console sent them after it."""
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        token = login(client, name)
        assert f'id="{verb}-form"' in client.get(f"/cases/{citation_id}").text
        data = {"csrf_token": token, "reason": "not_a_violation"}
        answer = client.post(f"/cases/{citation_id}/{verb}", data=data, follow_redirects=False)
        return answer.headers["location"]


def test_two_blind_decisions_that_agree_decide_the_case(sampled_site: Site) -> None:
    site, case = sampled_site, sampled_site.ids[0]
    first = decide(site, "rita", case, "approve")
    assert "second+reviewer+decides+it+blind" in first
    assert citation_of(site, case).status == Status.PENDING_REVIEW, "one decision is not enough"
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        token = login(client, "rita")
        page = client.get(f"/cases/{case}").text
        assert 'id="approve-form"' not in page and "another reviewer decides it" in page
        again = client.post(f"/cases/{case}/approve", data={"csrf_token": token})
        assert citation_of(site, case).status == Status.PENDING_REVIEW, again.url
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        login(client, "sam")
        assert "rita" not in client.get(f"/cases/{case}").text, "blind: nothing of the first"
    decide(site, "sam", case, "approve")
    assert citation_of(site, case).status == Status.APPROVED
    with site.store.session() as session:
        reason = session.scalar(
            select(CitationTransition.reason).where(
                CitationTransition.citation_id == case,
                CitationTransition.to_state == Status.APPROVED,
            )
        )
        assert reason is not None and "double review: agrees with rita" in reason
        assert agreement(session) == (1, 1)


def test_blind_decisions_that_disagree_wait_for_a_supervisor(sampled_site: Site) -> None:
    site, case = sampled_site, sampled_site.ids[1]
    decide(site, "rita", case, "approve")
    said = decide(site, "sam", case, "reject")
    assert "a+supervisor+decides+it" in said
    assert citation_of(site, case).status == Status.PENDING_REVIEW, "nobody is cited on a split"
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        login(client, "sam")  # a supervisor, but one of the two
        assert 'id="reject-form"' not in client.get(f"/cases/{case}").text
    decide(site, "sue", case, "reject")
    assert citation_of(site, case).status == Status.REJECTED
    with site.store.session() as session:
        assert len(session.scalars(select(BlindReview)).all()) == 2
        assert agreement(session) == (0, 1)


def test_the_sample_is_the_configured_share_and_the_same_everywhere() -> None:
    ids = [f"citation-{i}" for i in range(20_000)]
    share = sum(sampled(i, 0.05) for i in ids) / len(ids)
    assert 0.045 < share < 0.055
    assert [sampled(i, 0.05) for i in ids[:50]] == [sampled(i, 0.05) for i in ids[:50]]
    assert not any(sampled(i, 0.0) for i in ids[:1000]) and all(sampled(i, 1.0) for i in ids[:1000])


def test_supervisors_see_each_reviewers_decisions_and_the_agreement(sampled_site: Site) -> None:
    site = sampled_site
    first, second = site.ids
    decide(site, "rita", first, "approve")
    decide(site, "sam", first, "approve")  # agreed: approved
    decide(site, "rita", second, "approve")
    decide(site, "sam", second, "reject")  # disagreed
    decide(site, "sue", second, "reject")  # the supervisor's decision
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        login(client, "sue")
        page = client.get("/reviewers").text
    # Blind decisions count as the reviewer's work though alone they changed nothing.
    rita = page.split('data-reviewer="rita"')[1].split("</tr>")[0]
    assert '<td class="decisions">2</td>' in rita and "100 %" in rita
    sam = page.split('data-reviewer="sam"')[1].split("</tr>")[0]
    assert '<td class="decisions">2</td>' in sam and "50 %" in sam
    sue = page.split('data-reviewer="sue"')[1].split("</tr>")[0]
    assert '<td class="decisions">1</td>' in sue and "0 %" in sue
    assert "1 of 2 pairs agreed (50 %)" in page
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        login(client, "rita")
        assert client.get("/reviewers", follow_redirects=False).status_code in (303, 403)
