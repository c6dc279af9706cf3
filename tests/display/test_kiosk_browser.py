"""A kiosk billboard in a real browser: Debian's chromium, driven by Playwright, against the
kiosk pages served by uvicorn on loopback. The page cycles the playlist newest first, puts a
new approval on at once, and drops a taken-down case at once and for good. A screenshot of the
page is kept in test-artifacts/."""

import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Response, expect

from display.billboards import Billboards
from display.kiosk import create_kiosk
from identify.people import PeopleFinder
from pipeline.store import Status, open_store, transition
from tests.display.conftest import PICTURE_BOX, Crossing, open_crossing, photo, screens
from tests.fixtures.browser import ARTIFACTS, serving

DWELL_S = 3.0
SCREEN = "kiosk"


@pytest.fixture
def crossing(tmp_path: Path, finder: PeopleFinder) -> Iterator[Crossing]:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        yield open_crossing(
            tmp_path,
            store,
            finder,
            screens=screens((SCREEN, 1920, 1080), output="kiosk", dwell_s=DWELL_S),
        )
    finally:
        store.close()


@pytest.fixture
def served(crossing: Crossing) -> Iterator[tuple[Billboards, str]]:
    billboards = crossing.billboards()
    with serving(create_kiosk(billboards)) as url:
        yield billboards, url


def approved(crossing: Crossing, billboards: Billboards, at: datetime) -> str:
    citation_id = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    assert billboards.post(citation_id, at) == [SCREEN]
    return citation_id


def shown(page: Page) -> str | None:
    return page.locator("#frame").get_attribute("data-citation")


def test_the_kiosk_page_cycles_the_playlist_and_follows_it_at_once(
    crossing: Crossing, served: tuple[Billboards, str], browser: Browser
) -> None:
    billboards, url = served
    now = crossing.clock()
    older = approved(crossing, billboards, now - timedelta(minutes=10))
    newer = approved(crossing, billboards, now - timedelta(minutes=5))
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    frames: list[tuple[float, str, int]] = []

    def seen(response: Response) -> None:
        if "/frames/" in response.url:
            frames.append((time.monotonic(), response.url, response.status))

    page.on("response", seen)
    frame = page.locator("#frame")

    page.goto(f"{url}/billboard/{SCREEN}")
    expect(frame).to_have_attribute("data-citation", newer)
    page.wait_for_load_state("load")
    opened = time.monotonic()
    expect(frame).to_have_attribute("data-citation", older, timeout=(DWELL_S + 4) * 1000)
    assert time.monotonic() - opened > DWELL_S - 1, "moved on before its dwell was up"
    assert page.evaluate("document.querySelector('#frame').naturalWidth") == 1920
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "billboard-kiosk.png"))
    screenshot = Image.open(io.BytesIO(page.screenshot()))
    assert screenshot.size == (1920, 1080)
    darkest, brightest = screenshot.convert("L").getextrema()
    assert brightest - darkest > 100, "a blank page"
    assert page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    ) == [1920, 1080], "no scrollbars"
    expect(frame).to_have_attribute("data-citation", newer, timeout=(DWELL_S + 4) * 1000)

    fresh = approved(crossing, billboards, crossing.clock())
    posted = time.monotonic()
    expect(frame).to_have_attribute("data-citation", fresh, timeout=3000)
    assert time.monotonic() - posted < 3

    taken_down = time.monotonic()
    with crossing.store.session() as session:  # dismissed on appeal, then the event arrives
        transition(session, fresh, Status.APPEALED, "system:test")
        transition(session, fresh, Status.DISMISSED, "sam", "appeal upheld")
    assert billboards.take_down(fresh, "dismissed") == [SCREEN]
    expect(frame).not_to_have_attribute("data-citation", fresh, timeout=2500)
    assert time.monotonic() - taken_down < DWELL_S - 0.5, "waited out its dwell"
    watched: set[str | None] = set()
    until = time.monotonic() + 2 * DWELL_S + 1  # the rest of the playlist, round once more
    while time.monotonic() < until:
        watched.add(shown(page))
        time.sleep(0.05)
    assert watched == {older, newer}
    late = [(u, s) for t, u, s in frames if fresh in u and t > taken_down and s == 200]
    assert late == [], "a taken-down frame was served"
    assert all(status == 200 for _, u, status in frames if fresh not in u)
