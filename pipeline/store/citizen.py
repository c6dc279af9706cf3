"""The fined person's rows: portal logins and the appeals they file (issue 19). Kept apart from
`models` only for size; `pipeline.store` imports both, so the metadata always has them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.evidence import StoredFile
from pipeline.store.models import SHA256_LEN, Base, Citation, utcnow

PORTAL_ROLE = "portal:"
"""Role prefix of the files the portal shows the person fined."""


class PortalSession(Base):
    """A fined person's portal login, for one citation only; separate from the console's
    sessions, so no portal cookie can ever open a police page."""

    __tablename__ = "portal_sessions"

    token_hash: Mapped[str] = mapped_column(String(SHA256_LEN), primary_key=True)
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Appeal(Base):
    """What a person said (and sent) when contesting a citation; the citation's status says
    where the appeal stands, the audit log who decided it."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="contest")
    """contest: the person says the case is wrong; nomination: the vehicle's keeper names
    who was driving (`nominee`)."""
    nominee: Mapped[dict[str, Any] | None]
    """name, national_id, phone of the driver a keeper named."""
    reason: Mapped[str] = mapped_column(Text)
    upload_sha256: Mapped[str | None] = mapped_column(String(SHA256_LEN))
    """The attached file in the evidence store, if any."""
    upload_media_type: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    """portal, or counter (recorded by a supervisor in the console)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """One attempt to pay a citation's fine at the payment provider (a Stripe Checkout
    Session): made when the person asks to pay, marked paid only by the provider's signed
    notification, never by the browser coming back."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    """The provider's id of the attempt (cs_...)."""
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int]
    """In the currency's minor unit (cents, fen), as the provider counts."""
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    """open, paid."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    event_id: Mapped[str | None] = mapped_column(String(255))
    """The provider's notification that marked it paid."""


def add_files(citation: Citation, files: Iterable[StoredFile]) -> None:
    """List files the portal added to the case (`Citation.citizen_files`), each once."""
    listed = list(citation.citizen_files or [])
    known = {(f["sha256"], f["role"]) for f in listed}
    for f in files:
        if (f.sha256, f.role) not in known:
            listed.append({"sha256": f.sha256, "role": f.role, "media_type": f.media_type})
            known.add((f.sha256, f.role))
    citation.citizen_files = listed  # a new list: the JSON column sees the change


def portal_media(citation: Citation) -> list[dict[str, str]]:
    """The blurred key frames and clip made for the portal (`portal.media`), in their order."""
    return [f for f in citation.citizen_files or [] if f["role"].startswith(PORTAL_ROLE)]
