"""Screens driven by the player, through each pushing output: PNG files in a folder, raw RGB565
files, and a POST to a real HTTP server on loopback. A new approval is on screen at once, the
playlist turns every dwell, a dismissed case is gone from the screen and from its folder."""

import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from display.outputs import FolderOutput, HttpOutput, Rgb565Output, make_output
from display.player import POLL_S, RETRY_S, ScreenPlayer
from display.render import rgb565
from identify.people import PeopleFinder
from pipeline.store import Status, Store, open_store
from pipeline.store.citations import transition
from tests.display.conftest import PICTURE_BOX, Crossing, open_crossing, photo, screens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sqlite(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'player.db'}")


def current(folder: Path) -> str | None:
    return json.loads((folder / "current.json").read_text())["citation_id"]


def post(crossing: Crossing, citation_id: str, seconds: int) -> None:
    crossing.billboards().post(citation_id, crossing.clock() + timedelta(seconds=seconds))


def test_a_screen_with_nothing_to_show_waits_for_the_next_poll(
    tmp_path: Path, sqlite: Store, finder: PeopleFinder
) -> None:
    """Issue 18: past its first dwell an idle screen asked to step again at once, and the
    display worker spun a whole core reading an empty playlist."""
    crossing = open_crossing(tmp_path, sqlite, finder, screens=screens(("led", 256, 128)))
    screen = crossing.config.display.screens[0]
    clock = Clock()
    player = ScreenPlayer(crossing.billboards(), screen, make_output(screen, tmp_path), clock)
    for _ in range(3):
        assert player.step() == POLL_S
        clock.now += screen.dwell_s + 1


def test_a_folder_screen_turns_its_playlist_and_drops_a_dismissed_case(
    tmp_path: Path, sqlite: Store, finder: PeopleFinder
) -> None:
    crossing = open_crossing(tmp_path, sqlite, finder, screens=screens(("led", 256, 128)))
    screen = crossing.config.display.screens[0]
    output = make_output(screen, tmp_path)
    assert isinstance(output, FolderOutput)
    clock = Clock()
    player = ScreenPlayer(crossing.billboards(), screen, output, clock)
    folder = tmp_path / "billboard" / "led"

    player.step()  # nothing approved yet: the idle slide
    assert current(folder) is None and Image.open(folder / "current.png").size == (256, 128)

    old = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    post(crossing, old, 0)
    assert player.step() == screen.dwell_s
    assert current(folder) == old

    new = crossing.citation(kind="red_light", plate="粤B12345")
    clock.now += 2  # mid-dwell: a new approval does not wait its turn
    post(crossing, new, 60)
    player.step()
    assert current(folder) == new
    index = json.loads((folder / "playlist" / "playlist.json").read_text())
    assert index["frames"] == [f"{new}.png", f"{old}.png"]
    assert {p.name for p in (folder / "playlist").glob("*.png")} == set(index["frames"])

    clock.now += screen.dwell_s - 1
    player.step()
    assert current(folder) == new  # dwell not over
    clock.now += 1
    player.step()
    assert current(folder) == old
    clock.now += screen.dwell_s
    player.step()
    assert current(folder) == new

    with crossing.store.session() as session:
        transition(session, new, Status.NOTIFIED, "system:test")
        transition(session, new, Status.APPEALED, "system:test")
        transition(session, new, Status.DISMISSED, "sam", "not the car")
    crossing.billboards().take_down(new, "dismissed")
    player.step()
    assert current(folder) == old
    assert [p.name for p in (folder / "playlist").glob("*.png")] == [f"{old}.png"]


def test_a_playlist_the_folder_could_not_take_is_written_on_a_later_step(
    tmp_path: Path, sqlite: Store, finder: PeopleFinder
) -> None:
    crossing = open_crossing(tmp_path, sqlite, finder, screens=screens(("led", 256, 128)))
    screen = crossing.config.display.screens[0]
    clock = Clock()
    player = ScreenPlayer(crossing.billboards(), screen, make_output(screen, tmp_path), clock)
    folder = tmp_path / "billboard" / "led"
    folder.mkdir(parents=True)
    (folder / "playlist").write_text("in the way")  # as a full or read-only disk would be
    citation = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    post(crossing, citation, 0)
    assert player.step() == RETRY_S  # on screen, but its playlist folder is not written yet
    assert current(folder) == citation
    (folder / "playlist").unlink()
    clock.now += RETRY_S
    assert player.step() == screen.dwell_s - RETRY_S
    index = json.loads((folder / "playlist" / "playlist.json").read_text())
    assert index["frames"] == [f"{citation}.png"]
    assert (folder / "playlist" / f"{citation}.png").is_file()


def test_an_rgb565_panel_gets_the_frame_as_raw_pixels(
    tmp_path: Path, sqlite: Store, finder: PeopleFinder
) -> None:
    crossing = open_crossing(
        tmp_path, sqlite, finder, screens=screens(("hub75", 256, 128), output="rgb565")
    )
    screen = crossing.config.display.screens[0]
    output = make_output(screen, tmp_path)
    assert isinstance(output, Rgb565Output)
    billboards = crossing.billboards()
    citation = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    post(crossing, citation, 0)
    ScreenPlayer(billboards, screen, output).step()
    folder = tmp_path / "billboard" / "hub75"
    meta = json.loads((folder / "current.json").read_text())
    assert meta == meta | {"citation_id": citation, "width": 256, "height": 128}
    assert meta["format"] == "rgb565le"
    raw = (folder / "current.rgb565").read_bytes()
    assert len(raw) == 256 * 128 * 2
    pixels = np.frombuffer(raw, "<u2").reshape(128, 256)
    decoded = np.dstack(
        [(pixels >> 11) << 3, ((pixels >> 5) & 0x3F) << 2, (pixels & 0x1F) << 3]
    ).astype(np.int16)
    frame = np.asarray(billboards.frame("hub75", citation), dtype=np.int16)
    assert np.abs(decoded - frame).max() <= 7  # RGB565 keeps 5-6 bits per channel
    assert (folder / "playlist" / f"{citation}.rgb565").read_bytes() == raw


def test_rgb565_packs_pure_colours_exactly() -> None:
    image = Image.new("RGB", (3, 1))
    image.putdata([(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    assert np.frombuffer(rgb565(image), "<u2").tolist() == [0xF800, 0x07E0, 0x001F]


class Controller(BaseHTTPRequestHandler):
    """An LED controller's HTTP input: takes PNG frames, refuses while `down` is set."""

    frames: list[tuple[str, str, bytes]]
    down: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.down.is_set():
            self.send_response(503)
        else:
            self.frames.append(
                (self.headers["X-Stopline-Screen"], self.headers["X-Stopline-Citation"], body)
            )
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def controller() -> Iterator[tuple[str, type[Controller]]]:
    handler = type("Handler", (Controller,), {"frames": [], "down": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/frame", handler
    finally:
        server.shutdown()
        thread.join()


def test_an_http_controller_gets_each_new_frame_and_a_retry_when_it_was_down(
    tmp_path: Path, sqlite: Store, finder: PeopleFinder, controller: tuple[str, type[Controller]]
) -> None:
    url, handler = controller
    crossing = open_crossing(
        tmp_path,
        sqlite,
        finder,
        screens=screens(("gantry", 640, 360), output="http", http_url=url),
    )
    screen = crossing.config.display.screens[0]
    output = make_output(screen, tmp_path)
    assert isinstance(output, HttpOutput)
    clock = Clock()
    player = ScreenPlayer(crossing.billboards(), screen, output, clock)
    player.step()
    citation = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    handler.down.set()
    post(crossing, citation, 0)
    assert player.step() == RETRY_S  # the controller refused: tried again, not forgotten
    handler.down.clear()
    clock.now += RETRY_S
    player.step()
    assert [(s, c) for s, c, _ in handler.frames] == [("gantry", "idle"), ("gantry", citation)]
    assert Image.open(io.BytesIO(handler.frames[-1][2])).size == (640, 360)


def test_a_kiosk_screen_has_no_pushing_output(tmp_path: Path) -> None:
    from pipeline.config import ScreenConfig

    kiosk = ScreenConfig(id="k", cameras=["c"], width_px=1920, height_px=1080, output="kiosk")
    assert make_output(kiosk, tmp_path) is None


def test_an_http_screen_without_a_url_is_a_config_error(tmp_path: Path) -> None:
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError, match="http_url"):
        open_crossing(
            tmp_path,
            open_store(f"sqlite:///{tmp_path / 's.db'}"),
            None,  # type: ignore[arg-type]
            screens=screens(("gantry", 640, 360), output="http"),
        )
