"""What each pushed-to screen shows now: its playlist in turn, newest first, `dwell_s` each.

A new approval goes on screen at once rather than waiting its turn, which is what makes a
case live within a second of the reviewer's decision. The playlist is read again at every
change and at least every `POLL_S`, so expiries, dismissals and appeals made by other
processes take the item off within that time even without an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from PIL import Image

from display.billboards import Billboards
from display.outputs import Output
from display.slide import NotShowable
from pipeline.config import ScreenConfig

log = logging.getLogger(__name__)

POLL_S = 1.0
RETRY_S = 2.0
"""After a failed show or publish (controller unreachable, disk full), wait this long before
the next try."""
_NOTHING = object()
"""What a screen shows before its first frame: not even the idle slide."""


class ScreenPlayer:
    def __init__(
        self,
        billboards: Billboards,
        screen: ScreenConfig,
        output: Output,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.billboards = billboards
        self.screen = screen
        self.output = output
        self.clock = clock
        self.wake = threading.Event()
        """Set when the playlist may have changed: the next step runs at once."""
        self._items: list[str] = []
        self._shown: object = _NOTHING
        self._since = 0.0
        self._failed = False
        self._published: list[str] | None = None
        """The playlist the output last took; None until it took one, so a restart re-syncs."""

    @property
    def shown(self) -> str | None:
        return None if self._shown is _NOTHING else self._shown  # type: ignore[return-value]

    def step(self) -> float:
        """Bring the screen up to date; seconds until the next change is due."""
        now = self.clock()
        items = self.billboards.playlist(self.screen.id)
        if items != self._items:
            arrived = [c for c in items if c not in self._items]
            self._items = items
            if arrived:
                self._show(arrived[0], now)
            elif self._shown not in items:
                self._show(items[0] if items else None, now)
        elif self._failed or self._shown is _NOTHING:
            self._show(self.shown, now)
        elif items and now - self._since >= self.screen.dwell_s:
            self._show(self._next(), now)
        if self._published != self._items:
            self._publish()
        if self._failed or self._published != self._items:
            return RETRY_S
        if not self._items:
            return POLL_S  # nothing turns: only an approval (a wake or the next poll) changes it
        return max(0.0, self._since + self.screen.dwell_s - now)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                wait = self.step()
            except Exception:
                log.exception("screen %s: step failed", self.screen.id)
                wait = RETRY_S
            if self.wake.wait(min(wait, POLL_S)):
                self.wake.clear()

    def _next(self) -> str:
        if self._shown in self._items:
            return self._items[(self._items.index(self._shown) + 1) % len(self._items)]  # type: ignore[arg-type]
        return self._items[0]

    def _show(self, citation_id: str | None, now: float) -> None:
        try:
            image = self.billboards.frame(self.screen.id, citation_id)
        except NotShowable as exc:  # changed since the playlist was read: the next step sees it
            log.info("screen %s: %s", self.screen.id, exc)
            citation_id, image = None, self.billboards.frame(self.screen.id, None)
        try:
            self.output.show(image, citation_id)
        except Exception as exc:
            log.warning("screen %s: cannot show %s: %s", self.screen.id, citation_id, exc)
            self._failed = True
        else:
            self._failed = False
        self._shown, self._since = citation_id, now

    def _publish(self) -> None:
        def frame(citation_id: str) -> Image.Image | None:
            try:
                return self.billboards.frame(self.screen.id, citation_id)
            except NotShowable:
                return None

        try:
            self.output.publish(self._items, frame)
        except Exception as exc:
            log.warning("screen %s: cannot publish the playlist: %s", self.screen.id, exc)
        else:
            self._published = list(self._items)


def wake(players: Iterable[ScreenPlayer], screen_ids: list[str]) -> None:
    """Step the players of these screens now: their playlists changed."""
    for player in players:
        if player.screen.id in screen_ids:
            player.wake.set()
