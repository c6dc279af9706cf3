"""A reviewer's session in a real browser: Debian's chromium, driven by Playwright, against the
console served by uvicorn on loopback. Log in, work through the queue with the keyboard
(approve, reject with a reason, correct a plate), play the clip, and find every step in the
audit log. A screenshot of the case page is kept in test-artifacts/."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pipeline.store import Status
from pipeline.store.models import AuditEntry
from tests.fixtures.browser import ARTIFACTS, serving
from tests.review.conftest import PASSWORD, Site, citation_of, make_site
from tests.waits import wait_until


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    site = make_site(tmp_path)
    try:
        with serving(site.app) as url:
            yield site, url
    finally:
        site.bus.close()
        site.store.close()


def on_case(page: Page, citation_id: str) -> None:
    """On that case's page, with its scripts run (the keys work only then)."""
    expect(page.locator("#case")).to_have_attribute("data-citation", citation_id)
    page.wait_for_load_state("load")


def playable(page: Page) -> int:
    """The clip's width once the browser decoded its first frame (0 if it never does).

    Polled from here: the console's content policy forbids the eval a page-side wait uses.
    """
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = page.evaluate(
            "[document.querySelector('video#clip').readyState,"
            " document.querySelector('video#clip').videoWidth]"
        )
        if state[0] >= 2:
            return state[1]
        time.sleep(0.1)
    return 0


def test_a_reviewer_works_through_the_queue_with_the_keyboard(
    served: tuple[Site, str], browser: Browser
) -> None:
    site, url = served
    first, second, third, fourth = site.ids[:4]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/queue")
    expect(page).to_have_url(f"{url}/login?next=/queue")
    page.fill("input[name=name]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Pending review: 6")
    page.wait_for_load_state("load")

    page.keyboard.press("j")  # the oldest case
    on_case(page, first)
    clip = page.locator("video#clip")
    expect(clip).to_have_count(1)
    # Not page.wait_for_function: on a page whose CSP forbids eval its polls fail (Playwright
    # issue 7395), which shows whenever the clip is not ready at the first look.
    wait_until(lambda: clip.evaluate("v => v.readyState") >= 2, "clip ready to play")
    assert page.evaluate("document.querySelector('video#clip').videoWidth") == 450
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "case-page.png"), full_page=True)

    page.keyboard.press("a")  # approve, on to the next
    on_case(page, second)
    expect(page.locator(".notice.ok")).to_contain_text(f"approved {first[:8]}")

    page.keyboard.press("r")  # reject: reason 6, evidence incomplete
    page.keyboard.press("6")
    on_case(page, third)

    page.keyboard.press("p")  # correct the plate of the third case
    page.keyboard.type("KX-00004")
    page.keyboard.press("Enter")
    expect(page.locator(".notice.ok")).to_contain_text("plate corrected")
    expect(page.locator("#plate-text")).to_have_text("KX00004")
    expect(page.locator("#person")).to_contain_text("Keeper 4")
    on_case(page, third)  # the reloaded page's keys are ready
    page.keyboard.press("n")  # skip to the next without deciding
    on_case(page, fourth)

    assert citation_of(site, first).status == Status.APPROVED
    rejected = citation_of(site, second)
    assert rejected.status == Status.REJECTED and rejected.decision_reason == "evidence_incomplete"
    corrected = citation_of(site, third)
    assert corrected.status == Status.PENDING_REVIEW and corrected.plate_text == "KX00004"
    assert corrected.person_id == "P000004" and corrected.corrected
    with site.store.session() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.subject_id, AuditEntry.detail).where(
                AuditEntry.actor == "rita"
            )
        ).all()
    trail = [(action, subject) for action, subject, _ in rows]
    assert ("login", "rita") in trail
    assert ("citation.transition", first) in trail and ("citation.transition", second) in trail
    assert ("identity_lookup", third) in trail and ("citation.corrected", third) in trail
    assert {("citation.viewed", c) for c in (first, second, third, fourth)} <= set(trail)
    decisions = [d for action, _, d in rows if action == "citation.transition"]
    assert [d["to"] for d in decisions] == ["approved", "rejected"]
