"""Crossings a safeguard kept from being cited, as the review stage records them for the
supervisors' "why not cited" page (issue 20). Kept apart from `models` only for size;
`pipeline.store` imports it, so the metadata always has the table.

Never a citation: nothing refers to these rows, and no state machine moves them. Retention
deletes their evidence on the rejected cases' schedule (`pipeline.retention`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipeline.events import Safeguard, ViolationSuppressed
from pipeline.store.models import ID_LEN, SHA256_LEN, Base, _one_of, utcnow
from pipeline.store.rows import insert_once

SAFEGUARDS: tuple[str, ...] = get_args(Safeguard)


class SuppressedEvent(Base):
    """One `ViolationSuppressed`, its full event kept as the violations' are."""

    __tablename__ = "suppressed_events"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ("red_light", "jaywalk")), name="kind"),
        CheckConstraint(_one_of("safeguard", SAFEGUARDS), name="safeguard"),
        CheckConstraint(
            _one_of("signal_phase", ("red", "amber", "green", "unknown")), name="signal_phase"
        ),
        Index("ix_suppressed_events_camera_id_occurred_at", "camera_id", "occurred_at"),
        Index("ix_suppressed_events_safeguard_occurred_at", "safeguard", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    """The event's id, derived from the footage: a replay's event is this row again."""
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    kind: Mapped[str] = mapped_column(String(16))
    safeguard: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(ID_LEN))
    """The stop line or crosswalk judged."""
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    track_id: Mapped[int]
    object_class: Mapped[str] = mapped_column(String(16))
    signal_phase: Mapped[str] = mapped_column(String(8))
    manifest_sha256: Mapped[str | None] = mapped_column(String(SHA256_LEN))
    """None where the detect stage kept no evidence (`rules.suppressed_evidence`)."""
    event: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence_purged_at: Mapped[datetime | None]
    """When retention deleted the evidence files and manifest; see pipeline.retention."""


def record_suppressed(session: Session, event: ViolationSuppressed) -> tuple[SuppressedEvent, bool]:
    """Store a suppressed crossing once; True when this call stored it. Two workers given the
    same event at once both succeed, one row."""
    return insert_once(
        session,
        lambda: session.get(SuppressedEvent, event.event_id),
        lambda: SuppressedEvent(
            id=event.event_id,
            camera_id=event.camera_id,
            kind=event.kind,
            safeguard=event.safeguard,
            reason=event.reason,
            rule=event.rule,
            occurred_at=event.occurred_at,
            track_id=event.track_id,
            object_class=event.object_class,
            signal_phase=event.signal.phase,
            manifest_sha256=event.manifest_sha256,
            event=event.model_dump(mode="json"),
        ),
    )
