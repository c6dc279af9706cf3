"""The kiosk pages of `stopline display serve`: a billboard as a web page, for LED controllers
driven by a browser over HDMI.

`/billboard/<screen>` fills the window with the screen's current frame, and its script plays the
playlist the way `display.player` plays a pushed screen: newest first, `dwell_s` each, a new
approval at once, an item that leaves the playlist off at once. The script long-polls the
playlist: the server holds the request until the playlist differs from the version the page
has (checked every `CHECK_S`) or the page's next item is due, so a change reaches the screen in
a tenth of a second without the page asking many times a second. Every frame is fetched
through `Billboards.frame`, which checks the approval gate on each call, and nothing is cached
by the browser (`no-store`), so a dismissed case is gone from the screen at once and from the
machine's disk cache entirely.

The frame routes are plain `def`s: FastAPI runs them in its threadpool, so rendering a frame
never blocks the event loop. A held playlist request waits on the event loop instead and takes a
thread only to read the playlist: when each held request slept in a pool thread, forty of them
(from pages, or from anyone who can reach the port) took every thread, and frames and health
checks waited until the polls ran out. The held requests for one screen also share one read per
`CHECK_S`, so a hundred waiting pages cost the store what one does.
"""

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from display.billboards import Billboards
from display.render import png
from display.slide import NotShowable
from pipeline.config import ScreenConfig

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/billboard-static"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
CHECK_S = 0.1
"""How often a held playlist request reads the playlist again."""
PNG_CACHE = 32
"""Encoded frames kept, by the rendered image they encode (Billboards caches the images)."""


def _version(items: list[str]) -> str:
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]


def _base(screen_id: str) -> str:
    return f"/billboard/{quote(screen_id, safe='')}"


def frame_url(screen_id: str, citation_id: str) -> str:
    return f"{_base(screen_id)}/frames/{quote(citation_id, safe='')}.png"


def idle_url(screen_id: str) -> str:
    return f"{_base(screen_id)}/idle.png"


class _Encoded:
    """PNG bytes of the images Billboards returns, so a cycling playlist is encoded once.

    Keyed by the image object, which is held here so its id is not reused: only a frame
    `Billboards.frame` has just returned (its check passed) is ever looked up.
    """

    def __init__(self) -> None:
        self._pngs: OrderedDict[int, tuple[Image.Image, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, image: Image.Image) -> bytes:
        key = id(image)
        with self._lock:
            hit = self._pngs.get(key)
            if hit is not None and hit[0] is image:
                self._pngs.move_to_end(key)
                return hit[1]
        data = png(image)
        with self._lock:
            self._pngs[key] = (image, data)
            while len(self._pngs) > PNG_CACHE:
                self._pngs.popitem(last=False)
        return data


class _SharedReads:
    """A screen's playlist as read by its held requests: one read at a time per screen, and a
    read that began after a request last looked serves every request waiting then."""

    def __init__(self, billboards: Billboards) -> None:
        self.billboards = billboards
        self._latest: dict[str, tuple[float, list[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def since(self, screen_id: str, looked_at: float) -> list[str]:
        async with self._locks.setdefault(screen_id, asyncio.Lock()):
            read_at, items = self._latest.get(screen_id, (float("-inf"), []))
            if read_at <= looked_at:
                read_at = time.monotonic()
                items = await run_in_threadpool(self.billboards.playlist, screen_id)
                self._latest[screen_id] = (read_at, items)
            return items


class _Headers:
    """`HEADERS` on every response, also over StaticFiles' own caching headers. Plain ASGI: an
    `@app.middleware("http")` wraps `receive` so that a held playlist request never saw its
    client leave, and held on for the whole of its wait."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_kiosk(billboards: Billboards) -> FastAPI:
    app = FastAPI(title="stopline billboards", docs_url=None, redoc_url=None, openapi_url=None)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    encoded = _Encoded()
    held = _SharedReads(billboards)

    app.add_middleware(_Headers)

    def screen(screen_id: str) -> ScreenConfig:
        try:
            return billboards.screen(screen_id)
        except KeyError:
            raise HTTPException(404, "no such screen") from None

    def png_response(image: Image.Image) -> Response:
        return Response(encoded(image), media_type="image/png")

    @app.get("/healthz")
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/billboard/{screen_id}")
    def page(screen_id: str) -> HTMLResponse:
        shown = screen(screen_id)
        items = billboards.playlist(shown.id)
        current = items[0] if items else None
        body = env.get_template("billboard.html").render(
            screen=shown,
            static=STATIC_PATH,
            playlist=f"{_base(shown.id)}/playlist.json",
            src=frame_url(shown.id, current) if current else idle_url(shown.id),
            citation=current or "",
        )
        return HTMLResponse(body)

    @app.get("/billboard/{screen_id}/playlist.json")
    async def playlist(
        request: Request, screen_id: str, version: str = "", wait_s: float = 0.0
    ) -> dict[str, object]:
        """The playlist; with `version` and `wait_s`, held until it differs from that version,
        `wait_s` (at most `display.long_poll_s`) has passed or the client has gone. The first
        read is the request's own, so an answer that does not wait is never older than it."""
        shown = screen(screen_id)
        deadline = time.monotonic() + min(max(wait_s, 0.0), billboards.config.long_poll_s)
        items = await run_in_threadpool(billboards.playlist, shown.id)
        while _version(items) == version and time.monotonic() < deadline:
            looked_at = time.monotonic()
            await asyncio.sleep(CHECK_S)
            if await request.is_disconnected():
                break
            items = await held.since(shown.id, looked_at)
        return {
            "screen": shown.id,
            "version": _version(items),
            "dwell_s": shown.dwell_s,
            "width": shown.width_px,
            "height": shown.height_px,
            "items": [{"citation_id": c, "frame": frame_url(shown.id, c)} for c in items],
            "idle": idle_url(shown.id),
        }

    @app.get("/billboard/{screen_id}/frames/{citation_id}.png")
    def frame(screen_id: str, citation_id: str) -> Response:
        shown = screen(screen_id)
        try:
            image = billboards.frame(shown.id, citation_id)
        except NotShowable:
            raise HTTPException(404, "not on this screen's playlist") from None
        return png_response(image)

    @app.get("/billboard/{screen_id}/idle.png")
    def idle(screen_id: str) -> Response:
        return png_response(billboards.frame(screen(screen_id).id, None))

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="billboard-static")
    return app
