"""How frames reach a screen's controller, behind one interface.

- folder: `current.png` (what is on screen now) for controllers that poll, and the whole
  playlist (one PNG per item, their order in `playlist.json`) for controllers that run their
  own loop;
- rgb565: the same files as raw little-endian RGB565, for HUB75-style panel drivers;
- http: each new frame POSTed as image/png;
- kiosk: no output here; the pages of `stopline display serve` pull frames.

Files are replaced atomically, so a controller never reads half a frame.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image

from display.render import png, rgb565
from pipeline.config import ScreenConfig
from pipeline.evidence import atomic_write
from pipeline.store.models import utcnow

HTTP_TIMEOUT_S = 5.0


class Output(ABC):
    @abstractmethod
    def show(self, image: Image.Image, citation_id: str | None) -> None:
        """Put the frame on screen now; `citation_id` None is the idle frame."""

    def publish(  # noqa: B027
        self, order: list[str], frame: Callable[[str], Image.Image | None]
    ) -> None:
        """The playlist changed to `order`; `frame` draws an item (None: no longer showable).
        Most outputs need only `show`."""


class FolderOutput(Output):
    suffix = ".png"

    def __init__(self, folder: Path, screen: ScreenConfig) -> None:
        self.folder = folder
        self.screen = screen

    def encode(self, image: Image.Image) -> bytes:
        return png(image)

    def describe(self, citation_id: str | None) -> dict[str, object]:
        return {"screen": self.screen.id, "citation_id": citation_id}

    def show(self, image: Image.Image, citation_id: str | None) -> None:
        atomic_write(self.folder / f"current{self.suffix}", self.encode(image))
        meta = self.describe(citation_id) | {"shown_at": utcnow().isoformat()}
        atomic_write(self.folder / "current.json", json.dumps(meta).encode())

    def publish(self, order: list[str], frame: Callable[[str], Image.Image | None]) -> None:
        """One file per item, written once; `playlist.json` gives the order. A file of an
        item no longer on the playlist is deleted."""
        folder = self.folder / "playlist"
        names = []
        for citation_id in order:
            name = f"{citation_id}{self.suffix}"
            if not (folder / name).is_file():
                image = frame(citation_id)
                if image is None:
                    continue
                atomic_write(folder / name, self.encode(image))
            names.append(name)
        index = {"dwell_s": self.screen.dwell_s, "frames": names}
        atomic_write(folder / "playlist.json", json.dumps(index).encode())
        for stale in folder.glob(f"*{self.suffix}"):
            if stale.name not in names:
                stale.unlink(missing_ok=True)


class Rgb565Output(FolderOutput):
    suffix = ".rgb565"

    def encode(self, image: Image.Image) -> bytes:
        return rgb565(image)

    def describe(self, citation_id: str | None) -> dict[str, object]:
        size = {"width": self.screen.width_px, "height": self.screen.height_px}
        return super().describe(citation_id) | size | {"format": "rgb565le"}


class HttpOutput(Output):
    def __init__(self, url: str, screen: ScreenConfig) -> None:
        self.url = url
        self.screen = screen
        self.client = httpx.Client(timeout=HTTP_TIMEOUT_S)

    def show(self, image: Image.Image, citation_id: str | None) -> None:
        """Raises `httpx.HTTPError` when the controller does not take it; the player retries."""
        response = self.client.post(
            self.url,
            content=png(image),
            headers={
                "Content-Type": "image/png",
                "X-Stopline-Screen": self.screen.id,
                "X-Stopline-Citation": citation_id or "idle",
            },
        )
        response.raise_for_status()


def make_output(screen: ScreenConfig, base_dir: Path) -> Output | None:
    """None for a kiosk screen, which pulls its frames."""
    folder = base_dir / screen.output_dir / screen.id
    if screen.output == "folder":
        return FolderOutput(folder, screen)
    if screen.output == "rgb565":
        return Rgb565Output(folder, screen)
    if screen.output == "http":
        assert screen.http_url is not None  # checked by the config
        return HttpOutput(screen.http_url, screen)
    return None
