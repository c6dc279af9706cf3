"""The confirmation rule (issue 20): with `review.confirm_approval: clip_watched` a case is
approved only once its clip has played through the violation, and the approval says how far."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from pipeline.store import Status
from pipeline.store.models import CitationTransition
from review.app import create_app
from tests.fixtures.browser import serving
from tests.review.conftest import PASSWORD, Site, citation_of, login, make_site
from tests.waits import wait_until


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Site]:
    made = make_site(tmp_path, cases=2, confirm_approval="clip_watched")
    yield made
    made.bus.close()
    made.store.close()


def approval_reason(site: Site, citation_id: str) -> str:
    with site.store.session() as session:
        row = (
            session.query(CitationTransition)
            .filter_by(citation_id=citation_id, to_state=Status.APPROVED)
            .one()
        )
        return row.reason or ""


def test_an_approval_before_the_clip_reached_the_violation_is_refused(watching: Site) -> None:
    case = watching.ids[0]
    with TestClient(watching.app, base_url="http://127.0.0.1") as client:
        token = login(client, "rita")
        page = client.get(f"/cases/{case}").text
        assert 'data-watch-to="5.84"' in page, "y2: 292 frames at 25 fps, the car at the middle"
        early = client.post(
            f"/cases/{case}/approve",
            data={"csrf_token": token, "watched_s": "3.0"},
            follow_redirects=False,
        )
        assert "error=" in early.headers["location"]
        assert "violation" in early.headers["location"]
        assert citation_of(watching, case).status == Status.PENDING_REVIEW
        client.post(
            f"/cases/{case}/approve",
            data={"csrf_token": token, "watched_s": "6.4"},
            follow_redirects=False,
        )
    assert citation_of(watching, case).status == Status.APPROVED
    assert "clip played to 6.4 s (violation at 5.8 s)" in approval_reason(watching, case)


def test_the_approve_key_waits_for_the_clip_in_the_browser(
    watching: Site, browser: Browser
) -> None:
    case = watching.ids[0]
    with serving(create_app(watching.console)) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{url}/login?next=/cases/{case}")
        page.fill("input[name=name]", "rita")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        clip = page.locator("video#clip")
        wait_until(lambda: clip.evaluate("v => v.readyState") >= 2, "clip ready to play")
        page.keyboard.press("a")  # too early: the page plays the clip instead of approving
        expect(page.locator("#watch-hint")).to_have_class("unmet")
        assert citation_of(watching, case).status == Status.PENDING_REVIEW
        clip.evaluate("v => { v.playbackRate = 4; return v.play(); }")
        expect(page.locator("#watch-hint")).to_have_class("met", timeout=30_000)
        page.keyboard.press("a")
        wait_until(
            lambda: citation_of(watching, case).status == Status.APPROVED, "approved by the key"
        )
    assert "clip played to" in approval_reason(watching, case)


def test_the_api_applies_the_same_rule(watching: Site) -> None:
    case = watching.ids[1]
    with TestClient(watching.app, base_url="http://127.0.0.1") as client:
        token = login(client, "rita")
        url = f"/api/v1/citations/{case}/decisions"
        headers = {"X-CSRF-Token": token}
        unwatched = client.post(url, json={"decision": "approve"}, headers=headers)
        assert unwatched.status_code == 409 and "play the clip" in unwatched.text
        watched = client.post(url, json={"decision": "approve", "watched_s": 6.0}, headers=headers)
        assert watched.status_code == 200, watched.text
    assert citation_of(watching, case).status == Status.APPROVED
    assert "clip played to 6.0 s" in approval_reason(watching, case)
