"""Who is reviewing a pending case now (issue 20): kept apart from `models` only for size;
`pipeline.store` imports it, so the metadata always has the table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.models import NAME_LEN, Base


class CaseLease(Base):
    """The reviewer who opened a pending case, and until when no one else may decide it
    (`review.lease_minutes` from each opening); an expired lease is anybody's to take."""

    __tablename__ = "case_leases"

    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(NAME_LEN))
    taken_at: Mapped[datetime]
    expires_at: Mapped[datetime]
