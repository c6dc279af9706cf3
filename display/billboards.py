"""The display stage's one view of the deployment: playlists and frames for every screen.

The stage posts and takes down items through it, the players and the kiosk pages read frames
from it, and `stopline billboard render` draws one citation with it, so all of them pass the
same approval gate (`slide.showable`) and the same redaction. People in a picture are found
once, when the item is posted; later renders read them from the item.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from PIL import Image
from sqlalchemy.orm import Session

from display import playlist
from display.picture import People, find_people
from display.render import Renderer
from display.slide import (
    Locale,
    NotShowable,
    Slide,
    citation_slide,
    idle_slide,
    offender_picture,
    picture_ref,
    showable,
)
from pipeline.config import DisplayConfig, ScreenConfig
from pipeline.evidence import EvidenceStore
from pipeline.notices import due_date, end_of
from pipeline.redaction import PeopleFinder
from pipeline.store import Store
from pipeline.store.models import Camera, Violation, utcnow

log = logging.getLogger(__name__)

FRAME_CACHE_BYTES = 256 * 2**20
"""Rendered frames kept, by size (a 1080p frame is 6 MB, a 256x128 one 96 kB): a playlist
cycles through the same few."""


class Billboards:
    def __init__(
        self,
        store: Store,
        evidence: EvidenceStore,
        config: DisplayConfig,
        locale: Locale,
        renderer: Renderer,
        finder: Callable[[], PeopleFinder],
        appeal_days: int,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`appeal_days` is how long a case is held off the screens after approval where
        `config.hold_for_appeal` says so. `now` is the wall clock that items expire by: tests
        pass their own, so a playlist gives the same answer on any date."""
        self.store = store
        self.evidence = evidence
        self.config = config
        self.locale = locale
        self.renderer = renderer
        self.screens = {s.id: s for s in config.screens}
        self.appeal_days = appeal_days if config.hold_for_appeal else None
        self._make_finder = finder
        self._finder: PeopleFinder | None = None
        self._frames: OrderedDict[tuple[str, str | None, datetime | None], Image.Image]
        self._frames = OrderedDict()
        self._lock = threading.Lock()
        self.now = now

    @property
    def finder(self) -> PeopleFinder:
        if self._finder is None:
            self._finder = self._make_finder()
        return self._finder

    def screen(self, screen_id: str) -> ScreenConfig:
        try:
            return self.screens[screen_id]
        except KeyError:
            raise KeyError(f"no screen {screen_id!r} in display.screens") from None

    def screens_for(self, camera_id: str) -> list[ScreenConfig]:
        return [s for s in self.config.screens if camera_id in s.cameras]

    def post(self, citation_id: str, approved_at: datetime) -> list[str]:
        """Put an approved citation on its crossing's screens; the screens it is new on.

        A citation that is not (or no longer) approved is not posted: approvals can arrive
        late, after an appeal.
        """
        with self.store.session() as session:
            try:
                citation = showable(session, citation_id, self.config.privacy)
            except NotShowable as exc:
                log.info("not posting: %s", exc)
                return []
            screens = self.screens_for(citation.camera_id)
            if not screens:
                return []
            violation = session.get(Violation, citation.violation_id)
            assert violation is not None  # foreign key
            picture = offender_picture(self.evidence, violation)
            people = People() if picture is None else self._find_people(picture, violation)
            return playlist.post(
                session,
                citation,
                screens,
                approved_at,
                self._shown_from(approved_at),
                picture_ref(violation),
                people,
            )

    def _shown_from(self, approved_at: datetime) -> datetime | None:
        """The end of the contest-by day the notice printed, where cases are held till then."""
        if self.appeal_days is None:
            return None
        zone = self.locale.timezone
        return end_of(due_date(approved_at, self.appeal_days, zone), zone)

    def take_down(self, citation_id: str, reason: str) -> list[str]:
        with self.store.session() as session:
            return playlist.take_down(session, citation_id, reason, self.now())

    def playlist(self, screen_id: str) -> list[str]:
        """Citation ids the screen shows now, newest first."""
        with self.store.session() as session:
            return [i.citation_id for i in playlist.playlist(session, screen_id, self.now())]

    def frame(self, screen_id: str, citation_id: str | None) -> Image.Image:
        """The frame of an item on the screen's playlist, or the idle frame for None.

        Raises `NotShowable` for a citation that is not on the playlist now: the cache never
        answers without this check.
        """
        screen = self.screen(screen_id)
        if citation_id is None:
            return self._cached((screen_id, None, None), lambda: self._idle(screen))
        with self.store.session() as session:
            item = playlist.live_item(session, screen_id, citation_id, self.now())
            if item is None:
                raise NotShowable(f"citation {citation_id} is not on {screen_id}'s playlist")
            citation = showable(session, citation_id, self.config.privacy)
            key = (screen_id, citation_id, citation.updated_at)
            people = People.from_json(item.regions)
            return self._cached(key, lambda: self._render(session, citation_id, screen, people))

    def render_citation(self, citation_id: str, screen_id: str) -> Image.Image:
        """One approved citation on one screen, posted or not (for checking a layout by eye)."""
        screen = self.screen(screen_id)
        with self.store.session() as session:
            item = playlist.item(session, screen_id, citation_id)
            people = People.from_json(item.regions) if item is not None else None
            return self._render(session, citation_id, screen, people)

    def _render(
        self, session: Session, citation_id: str, screen: ScreenConfig, people: People | None
    ) -> Image.Image:
        def who(picture: Image.Image, violation: Violation) -> People:
            return people if people is not None else self._find_people(picture, violation)

        slide = citation_slide(
            session, self.evidence, citation_id, self.config.privacy, self.locale, who
        )
        return self.renderer.render(slide, screen)

    def _find_people(self, picture: Image.Image, violation: Violation) -> People:
        pedestrian = violation.kind == "jaywalk"
        return find_people(self.finder, picture, pedestrian, self.config.privacy)

    def _idle(self, screen: ScreenConfig) -> Image.Image:
        with self.store.session() as session:
            places = [
                c.location or c.name
                for c in (session.get(Camera, cid) for cid in screen.cameras)
                if c is not None
            ]
        slide: Slide = idle_slide(self.locale.message, places[0] if places else "")
        return self.renderer.render(slide, screen)

    def _cached(
        self, key: tuple[str, str | None, datetime | None], make: Callable[[], Image.Image]
    ) -> Image.Image:
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        image = make()
        with self._lock:
            self._frames[key] = image
            size = sum(_bytes(i) for i in self._frames.values())
            while size > FRAME_CACHE_BYTES and len(self._frames) > 1:
                size -= _bytes(self._frames.popitem(last=False)[1])
        return image


def _bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())
