"""The console's working rows (issue 20): who is reviewing a pending case now, the blind
decisions of the double-review sample, and which reviewers work which cameras' cases. Kept
apart from `models` only for size; `pipeline.store` imports it, so the metadata always has the
tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.models import ID_LEN, NAME_LEN, Base, utcnow


class CaseLease(Base):
    """The reviewer who opened a pending case, and until when no one else may decide it
    (`review.lease_minutes` from each opening); an expired lease is anybody's to take."""

    __tablename__ = "case_leases"

    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(NAME_LEN))
    taken_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class BlindReview(Base):
    """One reviewer's decision on a case of the double-review sample, made without seeing
    another's (`review.double_review_share`). The case changes only when two agree, or a
    supervisor decides where they did not."""

    __tablename__ = "blind_reviews"
    __table_args__ = (UniqueConstraint("citation_id", "reviewer", name="uq_blind_reviews_once"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(NAME_LEN))
    decision: Mapped[str] = mapped_column(String(16))
    """approve or reject."""
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]


class CameraAssignment(Base):
    """A reviewer a supervisor put on a camera's cases: their queue and "next" show those
    cameras' cases unless they ask for every camera. A reviewer with none sees all."""

    __tablename__ = "camera_assignments"

    camera_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("cameras.id"), primary_key=True
    )
    reviewer: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    assigned_by: Mapped[str] = mapped_column(String(NAME_LEN))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
