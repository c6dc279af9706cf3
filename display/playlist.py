"""Each screen's playlist in the store: approved citations of its cameras, newest first.

An item is posted when the approval arrives and taken down on dismissal; the query also drops
expired items and any citation no longer showable (appealed, dismissed), so a screen stops
showing a case the moment its status changes, before any event about it arrives. Where the
deployment holds cases through the appeal window, an item is posted at once but shown only from
`shown_from`, or as soon as the case is settled against the person (appeal upheld, fine paid):
the query decides, so no timer has to fire and a restart loses no hold.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from display.picture import People
from display.slide import SHOWABLE
from pipeline.config import ScreenConfig
from pipeline.store import audit
from pipeline.store.citations import transition
from pipeline.store.models import BillboardItem, Citation, Status
from pipeline.store.rows import insert_once

ACTOR = "system:display"
SETTLED = frozenset({Status.UPHELD, Status.PAID})
"""No appeal can come any more: a held item shows at once."""
TOLD = frozenset({Status.NOTIFIED})
"""A held item shows after its window only where the notice reached the person: one who was
never told (no phone, a failed delivery) never had the window to appeal in."""
MARKS_DISPLAYED = frozenset({Status.APPROVED})
"""Only a citation still waiting for its notice is marked `displayed`: `notified` (the fine's
clock) and `delivery_failed` (a person must act) say more, and must not be overwritten. The
billboard items and the audit log record every posting either way."""


log = logging.getLogger(__name__)


def post(
    session: Session,
    citation: Citation,
    screens: list[ScreenConfig],
    approved_at: datetime,
    shown_from: datetime | None,
    picture_sha256: str | None,
    people: People,
) -> list[str]:
    """Put the citation on each screen's playlist once, held until `shown_from` (None: shown
    at once); the screens it was new on. A held citation is not marked `displayed`, as nothing
    shows it yet."""
    posted = []
    for screen in screens:
        find = partial(item, session, screen.id, citation.id)

        def make(screen: ScreenConfig = screen) -> BillboardItem:
            return BillboardItem(
                screen_id=screen.id,
                citation_id=citation.id,
                approved_at=approved_at,
                shown_from=shown_from,
                expires_at=(shown_from or approved_at) + timedelta(hours=screen.max_age_h),
                picture_sha256=picture_sha256,
                regions=people.to_json(),
            )

        _, new = insert_once(session, find, make)
        if new:
            posted.append(screen.id)
            audit.append(
                session,
                ACTOR,
                "billboard.posted",
                "citation",
                citation.id,
                {
                    "screen": screen.id,
                    "shown_from": shown_from and shown_from.isoformat(),
                    "bystanders": len(people.bystanders),
                    "bystander_faces": len(people.bystander_faces),
                },
            )
    if posted and citation.status in MARKS_DISPLAYED and shown_from is None:
        transition(session, citation.id, Status.DISPLAYED, ACTOR, "on " + ", ".join(posted))
    return posted


def take_down(session: Session, citation_id: str, reason: str, now: datetime) -> list[str]:
    """Remove the citation from every screen; the screens it was on.

    The store is the truth, not the event that asks: a citation the store still shows as
    approved stays up (a forged or stray `citations.dismissed` takes nothing down).
    """
    citation = session.get(Citation, citation_id)
    if citation is not None and citation.status in SHOWABLE:
        log.warning(
            "take-down of %s ignored: the store says %s (%s)", citation_id, citation.status, reason
        )
        return []
    items = session.scalars(
        select(BillboardItem).where(
            BillboardItem.citation_id == citation_id, BillboardItem.removed_at.is_(None)
        )
    ).all()
    for item in items:
        item.removed_at, item.removed_reason = now, reason
        audit.append(
            session,
            ACTOR,
            "billboard.removed",
            "citation",
            citation_id,
            {"screen": item.screen_id, "reason": reason},
        )
    return [item.screen_id for item in items]


def _live(screen_id: str, now: datetime) -> Select[tuple[BillboardItem]]:
    """Items the screen may show now: not removed, not expired, not held, the citation still
    showable."""
    return (
        select(BillboardItem)
        .join(Citation, Citation.id == BillboardItem.citation_id)
        .where(
            BillboardItem.screen_id == screen_id,
            BillboardItem.removed_at.is_(None),
            BillboardItem.expires_at > now,
            Citation.status.in_([s.value for s in SHOWABLE]),
            or_(
                BillboardItem.shown_from.is_(None),
                and_(
                    BillboardItem.shown_from <= now,
                    Citation.status.in_([s.value for s in TOLD]),
                ),
                Citation.status.in_([s.value for s in SETTLED]),
            ),
        )
    )


def playlist(session: Session, screen_id: str, now: datetime) -> list[BillboardItem]:
    """What the screen may show now, newest approval first."""
    newest_first = (BillboardItem.approved_at.desc(), BillboardItem.id.desc())
    return list(session.scalars(_live(screen_id, now).order_by(*newest_first)))


def live_item(
    session: Session, screen_id: str, citation_id: str, now: datetime
) -> BillboardItem | None:
    """The citation's item if the screen may show it at `now`."""
    return session.scalar(_live(screen_id, now).where(BillboardItem.citation_id == citation_id))


def item(session: Session, screen_id: str, citation_id: str) -> BillboardItem | None:
    return session.scalar(
        select(BillboardItem).where(
            BillboardItem.screen_id == screen_id, BillboardItem.citation_id == citation_id
        )
    )
