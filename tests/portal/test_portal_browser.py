"""A fined person in a real browser (Debian's chromium, driven by Playwright) against the
portal, and a supervisor against the console, both served by uvicorn on loopback: the person
opens their case with the notice number and PIN from the SMS, reads what was seen, contests with
a photo, and the appeal is in the supervisors' queue. The case page plays the clip and shows
the key frames the portal's stage blurred. Wrong PINs are answered alike and then
throttled. Screenshots of the portal's pages go to test-artifacts/."""

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, expect

from portal.stage import PortalMediaStage
from review.app import create_app as console_app
from tests.fixtures.browser import ARTIFACTS, serving
from tests.portal.conftest import Fined
from tests.review.conftest import PASSWORD
from tests.waits import wait_until


def test_a_fined_person_opens_watches_contests_and_the_appeal_reaches_the_console(
    fined: Fined, media_stage: PortalMediaStage, browser: Browser, tmp_path: Path
) -> None:
    assert media_stage.make(fined.citation_id), "the approval's blurred key frames and clip"
    photo = tmp_path / "receipt.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "#3a6").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(fined.portal) as portal, serving(console_app(fined.site.console)) as console:
        page = browser.new_page(viewport={"width": 1000, "height": 900}, locale="zh-CN")
        page.goto(portal)
        expect(page.locator("h1")).to_have_text("交通违法查询")
        page.fill("#notice-number", fined.notice_number)
        page.fill("#pin", "999999" if fined.pin != "999999" else "888888")
        page.click("#open")
        expect(page.locator("#error")).to_have_text("通知书编号或查询码不正确。")

        page.fill("#notice-number", fined.notice_number)
        page.fill("#pin", fined.pin)
        page.click("#open")
        expect(page.locator("#offence")).to_have_text("闯红灯")
        expect(page.locator("#seen")).to_contain_text("越过停止线")
        # Watch: the blurred clip plays, and both key frames load.
        clip = page.locator("video#clip")
        wait_until(lambda: clip.evaluate("v => v.readyState") >= 2, "clip ready to play")
        assert clip.evaluate("v => [v.videoWidth, v.videoHeight]") == [450, 360]
        clip.evaluate("v => v.play()")
        wait_until(lambda: clip.evaluate("v => v.currentTime") > 1.0, "clip playing")
        frames = page.locator("img.key-frame")
        expect(frames).to_have_count(2)
        for i in range(2):
            wait_until(
                lambda i=i: frames.nth(i).evaluate("i => i.complete && i.naturalWidth") == 450,
                "key frame shown",
            )
        page.screenshot(path=str(ARTIFACTS / "portal-case-zh.png"), full_page=True)
        page.click("#lang-en")
        expect(page.locator("#offence")).to_have_text("Ran a red light")
        expect(page.locator("#status")).to_have_text("To pay")
        page.screenshot(path=str(ARTIFACTS / "portal-case-en.png"), full_page=True)

        page.fill("#reason", "I stopped at the line; the car in the picture is not mine.")
        page.set_input_files("#attachment", str(photo))
        page.click("#send")
        expect(page.locator("#message")).to_have_text("Your appeal has been sent.")
        expect(page.locator("#status")).to_have_text("Appeal under review")
        expect(page.locator("#appeal")).to_have_count(0)

        police = browser.new_page(viewport={"width": 1400, "height": 900})
        police.goto(f"{console}/login?next=/appeals")
        police.fill("input[name=name]", "sam")
        police.fill("input[name=password]", PASSWORD)
        police.click("button[type=submit]")
        row = police.locator(f"tr.appeal[data-citation='{fined.citation_id}']")
        expect(row.locator(".appeal-reason")).to_have_text(
            "I stopped at the line; the car in the picture is not mine."
        )
        expect(row.locator(".appeal-upload")).to_contain_text("image/jpeg")
        expect(row).to_contain_text(fined.notice_number)


def test_wrong_pins_are_throttled_in_the_browser(fined: Fined, browser: Browser) -> None:
    tries = fined.site.console.config.portal.max_failed_pins + 1
    wrong = "000000" if fined.pin != "000000" else "111111"
    with serving(fined.portal) as portal:
        page = browser.new_page(locale="en-GB")
        page.goto(portal)
        for _ in range(tries):
            page.fill("#notice-number", fined.notice_number)
            page.fill("#pin", wrong)
            page.click("#open")
        expect(page.locator("#error")).to_contain_text("Too many tries")
        page.fill("#notice-number", fined.notice_number)
        page.fill("#pin", fined.pin)
        page.click("#open")
        expect(page.locator("#error")).to_contain_text("Too many tries")
        page.screenshot(path=str(ARTIFACTS / "portal-throttled.png"))
