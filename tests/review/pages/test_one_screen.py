"""The one-screen case view (issue 20): key frames side by side with the recorded lines and the
offender's box drawn over them, the clip with its tools, a zoomed plate crop on a vehicle's
case and none on a pedestrian's, and the decision bar in view without scrolling at 1440x900
and 1920x1080."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from benchmarks.review_flow import LAYOUT, SIZES, log_in
from review.app import create_app
from tests.fixtures.browser import serving
from tests.review.conftest import PASSWORD, Site, login, make_site
from tests.shared_data import DATA, need
from tests.waits import wait_until

PLATES = DATA / "plates-cn-crops"


@pytest.fixture
def shown(tmp_path: Path) -> Iterator[Site]:
    """Case 0 is a pedestrian's, 1 and 2 vehicles'; each with a real plate crop."""
    made = make_site(tmp_path, cases=3, plate_crops=need(PLATES))
    yield made
    made.bus.close()
    made.store.close()


def test_a_vehicle_case_shows_the_recorded_lines_and_the_zoomed_plate(shown: Site) -> None:
    with TestClient(shown.app, base_url="http://127.0.0.1") as client:
        login(client, "rita")
        page = client.get(f"/cases/{shown.ids[1]}").text
    # configs/clip-y2.yaml's lines, recorded in the case's signed manifest (same frame size).
    assert 'class="line-stop" points="64.0,183.0 416.0,222.0 "' in page
    assert 'class="line-entry" points="60.0,158.0 445.0,170.0 "' in page
    assert "line-crosswalk" not in page, "a red-light case is judged on its stop and entry lines"
    assert page.count('<svg class="lines"') == 2, "both key frames"
    assert "from the camera set-up recorded in the signed manifest" in page
    assert 'id="plate-panel"' in page and 'class="plate-zoom"' in page
    plate = sorted(PLATES.glob("*.jpg"))[1].stem
    assert f'id="plate-text">{plate}<' in page
    assert 'id="plate-form"' in page and 'id="decide-bar"' in page


def test_a_pedestrian_case_has_no_plate_panel(shown: Site) -> None:
    with TestClient(shown.app, base_url="http://127.0.0.1") as client:
        login(client, "rita")
        page = client.get(f"/cases/{shown.ids[0]}").text
    assert 'id="plate-panel"' not in page and 'id="plate-form"' not in page
    assert 'id="face-panel"' in page
    assert '<polygon class="line-crosswalk"' in page, "a pedestrian is judged on the crossing"
    assert "line-stop" not in page


def _clip(page: Page, script: str) -> object:
    return page.locator("video#clip").evaluate(script)


def test_the_case_fits_one_screen_and_the_clip_keys_work(shown: Site, browser: Browser) -> None:
    first, second = shown.ids[1], shown.ids[2]
    with serving(create_app(shown.console)) as url:
        page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
        log_in(page, url, "rita", PASSWORD)
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for case in shown.ids:
                page.goto(f"{url}/cases/{case}")
                page.wait_for_load_state("load")
                assert page.evaluate(LAYOUT), f"{case[:8]} at {width}x{height} needs scrolling"
        page.goto(f"{url}/cases/{first}")
        page.wait_for_load_state("load")
        wait_until(lambda: _clip(page, "v => !v.paused && v.currentTime > 0"), "autoplay")
        page.keyboard.press("l")
        assert page.locator("svg.lines").first.is_hidden(), "l hides the lines"
        page.keyboard.press("l")
        assert page.locator("svg.lines").first.is_visible()
        page.keyboard.press("]")
        assert _clip(page, "v => v.playbackRate") == 1.5
        page.keyboard.press("Space")
        wait_until(lambda: _clip(page, "v => v.paused"), "space pauses")
        before = float(_clip(page, "v => v.currentTime"))  # type: ignore[arg-type]
        page.keyboard.press(".")
        wait_until(
            lambda: abs(float(_clip(page, "v => v.currentTime")) - before - 0.04) < 0.005,  # type: ignore[arg-type]
            "one frame on (25 fps)",
        )
        page.goto(f"{url}/cases/{second}")
        page.wait_for_load_state("load")
        assert _clip(page, "v => v.playbackRate") == 1.5, "the speed is kept between cases"
