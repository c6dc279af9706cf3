"""Why not cited: the review stage's record of the crossings a safeguard kept from being cited,
and what the supervisors' page reads of it (issue 20).

`SuppressedRecord` (`stopline worker review-suppressed`) stores each `ViolationSuppressed` once
by its event id, which the detect stage derives from the footage, so a redelivery or a replay of
the same footage stores nothing new. The page lists them for supervisors and auditors to check
that the safeguards hold back what they should and only that; opening one is an audit row, as
opening a case is, since its evidence shows people.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pipeline.events import Event, Safeguard, ViolationSuppressed
from pipeline.store import Store, audit
from pipeline.store.suppressed import SAFEGUARDS, SuppressedEvent, record_suppressed
from review.auth import Viewer
from review.cases.thumbnails import key_frame_of

log = logging.getLogger(__name__)

SAFEGUARD_LABELS: Mapping[Safeguard, str] = {
    "unknown_phase": "Signal phase unknown",
    "red_onset_not_seen": "Red onset not seen",
    "grace_period": "Grace period",
    "amber_too_short": "Amber too short",
    "turn_allowed": "Turn allowed on red",
}


class SuppressedRecord:
    """Consumes `violations.suppressed` into the store; it never makes a citation."""

    group = "review-suppressed"

    def __init__(self, store: Store) -> None:
        self.store = store

    def handle(self, event: Event) -> None:
        if not isinstance(event, ViolationSuppressed):
            return
        with self.store.session() as session:
            _, stored = record_suppressed(session, event)
        if stored:
            log.info(
                "not cited on %s (%s): %s", event.camera_id, event.safeguard, event.event_id[:8]
            )


@dataclass(frozen=True)
class NotCitedFilter:
    camera: str | None = None
    safeguard: str | None = None

    def query_string(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v})

    def with_safeguard(self, safeguard: str) -> NotCitedFilter:
        return replace(self, safeguard=safeguard)


def _filtered(f: NotCitedFilter, *, by_safeguard: bool = True) -> Select[tuple[SuppressedEvent]]:
    query = select(SuppressedEvent)
    if f.camera:
        query = query.where(SuppressedEvent.camera_id == f.camera)
    if f.safeguard and by_safeguard:
        query = query.where(SuppressedEvent.safeguard == f.safeguard)
    return query


def listing(
    session: Session, f: NotCitedFilter, page: int, size: int
) -> tuple[list[SuppressedEvent], int]:
    """One page of suppressed crossings, newest first, and how many match."""
    query = _filtered(f)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(SuppressedEvent.occurred_at.desc(), SuppressedEvent.id)
    rows = session.scalars(ordered.offset((page - 1) * size).limit(size)).all()
    return list(rows), total


def counts(session: Session, f: NotCitedFilter) -> dict[str, int]:
    """Crossings held back by each safeguard (on the chosen camera), every safeguard listed."""
    sub = _filtered(f, by_safeguard=False).subquery()
    query = select(sub.c.safeguard, func.count()).group_by(sub.c.safeguard)
    found: dict[str, int] = dict(session.execute(query).all())
    return {safeguard: found.get(safeguard, 0) for safeguard in SAFEGUARDS}


def thumbnail(row: SuppressedEvent) -> str | None:
    """The first key frame's hash, while the evidence is kept."""
    return None if row.evidence_purged_at is not None else key_frame_of(row.event)


def open_suppressed(session: Session, event_id: str, viewer: Viewer) -> SuppressedEvent:
    """One suppressed crossing with its evidence; the view is an audit row (who, what)."""
    row = session.get(SuppressedEvent, event_id)
    if row is None:
        raise LookupError(event_id)
    detail = {"purpose": "audit", "safeguard": row.safeguard, "camera_id": row.camera_id}
    audit.append(session, viewer.name, "suppressed.viewed", "suppressed_event", row.id, detail)
    return row
