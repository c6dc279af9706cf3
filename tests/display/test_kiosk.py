"""The kiosk pages over HTTP, on both store backends: a screen's playlist holds approved
citations only, newest first, and a frame is served only while its citation is on the
playlist (checked at each request, never from a cache)."""

import io
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image

from display.billboards import Billboards
from display.kiosk import HEADERS, create_kiosk
from identify.people import PeopleFinder
from pipeline.store import Status, open_store, transition
from tests.cli import COMMAND
from tests.clock import START
from tests.detectors.live_camera import free_port
from tests.display.conftest import PICTURE_BOX, Crossing, open_crossing, photo, screens

WHEN = START - timedelta(hours=1)


@pytest.fixture
def billboards(crossing: Crossing) -> Billboards:
    return crossing.billboards()


@pytest.fixture
def client(billboards: Billboards) -> Iterator[TestClient]:
    with TestClient(create_kiosk(billboards), base_url="http://127.0.0.1") as made:
        yield made


def posted(crossing: Crossing, billboards: Billboards, minutes: int) -> str:
    """An approved citation with a photo, posted as approved `minutes` after WHEN."""
    citation_id = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    assert billboards.post(citation_id, WHEN + timedelta(minutes=minutes)) == ["led", "big"]
    return citation_id


def items(client: TestClient, screen: str) -> list[str]:
    response = client.get(f"/billboard/{screen}/playlist.json")
    assert response.status_code == 200
    return [item["citation_id"] for item in response.json()["items"]]


def frame_size(client: TestClient, screen: str, citation_id: str) -> tuple[int, int]:
    response = client.get(f"/billboard/{screen}/frames/{citation_id}.png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).size


def test_the_playlist_lists_approved_citations_newest_first(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    older = posted(crossing, billboards, 0)
    newer = posted(crossing, billboards, 5)
    response = client.get("/billboard/big/playlist.json")
    assert response.status_code == 200
    version = response.json()["version"]
    assert response.json() == {
        "screen": "big",
        "version": version,
        "dwell_s": 8.0,
        "width": 1920,
        "height": 1080,
        "items": [
            {"citation_id": newer, "frame": f"/billboard/big/frames/{newer}.png"},
            {"citation_id": older, "frame": f"/billboard/big/frames/{older}.png"},
        ],
        "idle": "/billboard/big/idle.png",
    }
    assert items(client, "led") == [newer, older]
    assert frame_size(client, "big", newer) == (1920, 1080)
    assert frame_size(client, "led", older) == (256, 128)
    for screen, size in (("big", (1920, 1080)), ("led", (256, 128))):
        idle = client.get(f"/billboard/{screen}/idle.png")
        assert idle.status_code == 200 and idle.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(idle.content)).size == size

    page = client.get("/billboard/big")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'data-citation="{newer}"' in page.text
    assert f'src="/billboard/big/frames/{newer}.png"' in page.text
    assert 'src="/billboard-static/billboard.js"' in page.text
    assert "<script>" not in page.text, "the content policy allows no inline script"
    for asset in ("billboard.js", "billboard.css"):
        assert client.get(f"/billboard-static/{asset}").status_code == 200


def test_pending_and_rejected_citations_are_never_shown(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    shown = posted(crossing, billboards, 0)
    pending = crossing.citation(
        status=Status.PENDING_REVIEW, picture=photo("zidane.jpg", PICTURE_BOX)
    )
    rejected = crossing.citation(status=Status.REJECTED, picture=photo("zidane.jpg", PICTURE_BOX))
    for citation_id in (pending, rejected):
        assert billboards.post(citation_id, WHEN) == []
    assert items(client, "big") == [shown]
    for citation_id in (pending, rejected):
        for screen in ("big", "led"):
            response = client.get(f"/billboard/{screen}/frames/{citation_id}.png")
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/json"
    assert client.get("/billboard/big/frames/no-such-citation.png").status_code == 404
    # The page opens on the approved one, not on a citation that never was approved.
    page = client.get("/billboard/big").text
    assert pending not in page and rejected not in page


def test_a_taken_down_citation_is_gone_at_once_though_its_frame_was_rendered(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    kept = posted(crossing, billboards, 0)
    gone = posted(crossing, billboards, 5)
    assert frame_size(client, "big", gone) == (1920, 1080)  # rendered and cached by now
    with crossing.store.session() as session:  # dismissed on appeal, then the event arrives
        transition(session, gone, Status.APPEALED, "system:test")
        transition(session, gone, Status.DISMISSED, "sam", "appeal upheld")
    assert billboards.take_down(gone, "dismissed") == ["led", "big"]
    assert items(client, "big") == [kept] and items(client, "led") == [kept]
    for screen in ("big", "led"):
        assert client.get(f"/billboard/{screen}/frames/{gone}.png").status_code == 404
    assert frame_size(client, "big", kept) == (1920, 1080)


def test_a_dismissed_citation_is_gone_on_its_status_alone(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    """No take_down, no event: the dismissal in the store is enough."""
    kept = posted(crossing, billboards, 0)
    appealed = posted(crossing, billboards, 5)
    dismissed = posted(crossing, billboards, 10)
    for citation_id in (appealed, dismissed):
        assert frame_size(client, "led", citation_id) == (256, 128)
        assert crossing.status(citation_id) == Status.DISPLAYED
    with crossing.store.session() as session:
        transition(session, appealed, Status.APPEALED, "system:test")
        transition(session, dismissed, Status.APPEALED, "system:test")
        transition(session, dismissed, Status.DISMISSED, "sam", "appeal upheld")
    assert items(client, "led") == [kept] and items(client, "big") == [kept]
    for citation_id in (appealed, dismissed):
        for screen in ("big", "led"):
            assert client.get(f"/billboard/{screen}/frames/{citation_id}.png").status_code == 404


def test_an_unknown_screen_is_not_found(client: TestClient) -> None:
    for path in (
        "/billboard/nowhere",
        "/billboard/nowhere/playlist.json",
        "/billboard/nowhere/idle.png",
        "/billboard/nowhere/frames/cit-0001.png",
    ):
        assert client.get(path).status_code == 404, path


def test_every_response_carries_the_security_and_no_store_headers(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    citation_id = posted(crossing, billboards, 0)
    assert HEADERS == {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    for path in (
        "/healthz",
        "/billboard/big",
        "/billboard/big/playlist.json",
        f"/billboard/big/frames/{citation_id}.png",
        "/billboard/big/idle.png",
        "/billboard/big/frames/cit-9999.png",  # a 404
        "/billboard/nowhere",
        "/billboard-static/billboard.js",
        "/billboard-static/billboard.css",
    ):
        response = client.get(path)
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.text == "ok"


def test_a_held_playlist_request_answers_as_soon_as_the_playlist_changes(
    crossing: Crossing, billboards: Billboards, client: TestClient
) -> None:
    """The page long-polls: a request carrying the current version waits until the playlist
    changes (here: an approval posted from another thread) or its wait ends."""
    first = posted(crossing, billboards, 0)
    version = client.get("/billboard/led/playlist.json").json()["version"]
    start = time.monotonic()
    unchanged = client.get(f"/billboard/led/playlist.json?version={version}&wait_s=0.5").json()
    assert time.monotonic() - start >= 0.5 and unchanged["version"] == version

    later = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    timer = threading.Timer(0.5, billboards.post, (later, WHEN + timedelta(minutes=9)))
    timer.start()
    start = time.monotonic()
    changed = client.get(f"/billboard/led/playlist.json?version={version}&wait_s=15").json()
    waited = time.monotonic() - start
    timer.join()
    assert [i["citation_id"] for i in changed["items"]] == [later, first]
    assert changed["version"] != version and 0.4 < waited < 10


def test_the_serve_command_serves_each_screens_page(tmp_path: Path, finder: PeopleFinder) -> None:
    """`stopline display serve` as a user runs it: the pages it prints answer, with the
    playlist the display stage filled in the deployment's store."""
    crossing = open_crossing(
        tmp_path,
        open_store(f"sqlite:///{tmp_path / 'stopline.db'}"),
        finder,
        screens=screens(("led", 256, 128)),
    )
    citation_id = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    # The served process reads the wall clock, so the approval is now by that clock.
    crossing.billboards().post(citation_id, datetime.now(UTC))
    data = crossing.config.model_dump(mode="json")
    data["display"]["listen_port"] = free_port()
    config = tmp_path / "crossing.yaml"
    config.write_text(yaml.safe_dump(data))
    server = subprocess.Popen(
        [*COMMAND, "display", "serve", "--config", str(config)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        page = re.search(r"billboard led: (http://\S+)", line)
        assert page, line
        deadline = time.monotonic() + 60
        while True:
            try:
                listed = httpx.get(page.group(1) + "/playlist.json", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        assert [i["citation_id"] for i in listed.json()["items"]] == [citation_id]
        assert httpx.get(page.group(1)).status_code == 200
    finally:
        server.terminate()
        server.wait(30)
