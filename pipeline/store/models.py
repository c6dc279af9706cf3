"""ORM models of the stopline database.

The Alembic migrations in `migrations/versions` are the schema's source of truth; these models
must describe exactly what they create (a test compares the two on SQLite and PostgreSQL).
Closed value sets are plain strings with CHECK constraints rather than native enum types, so
adding a value is a constraint change and not an `ALTER TYPE` that PostgreSQL cannot roll back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so later migrations can address constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LEN = 64
NAME_LEN = 200
SHA256_LEN = 64


class Status(StrEnum):
    """Lifecycle of a citation; the legal moves between them are in `citations.TRANSITIONS`."""

    DETECTED = "detected"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    NOTIFIED = "notified"
    DISPLAYED = "displayed"
    PAID = "paid"
    APPEALED = "appealed"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    DELIVERY_FAILED = "delivery_failed"
    """The carrier reported the SMS notice undelivered; a person fixes the number, it is resent."""


class Role(StrEnum):
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime that comes back in UTC from SQLite and PostgreSQL alike.

    SQLite has no time zone type, so values are stored as naive UTC text there; PostgreSQL
    keeps `timestamptz`. Naive input is refused because its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, values: type[StrEnum] | tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        bytes: LargeBinary,
    }


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    location: Mapped[str | None] = mapped_column(Text)


class Violation(Base):
    """A rule firing as reported by `ViolationDetected`; the full event is kept for evidence."""

    __tablename__ = "violations"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ("red_light", "jaywalk")), name="kind"),
        CheckConstraint(
            _one_of("signal_phase", ("red", "amber", "green", "unknown")), name="signal_phase"
        ),
        Index("ix_violations_camera_id_occurred_at", "camera_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    track_id: Mapped[int]
    object_class: Mapped[str] = mapped_column(String(16))
    signal_phase: Mapped[str | None] = mapped_column(String(8))  # None: no signal applies
    time_into_red_s: Mapped[float | None]
    manifest_sha256: Mapped[str] = mapped_column(String(SHA256_LEN))
    event: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    national_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164, e.g. +8613800138000
    language: Mapped[str | None] = mapped_column(String(35))  # BCP-47, e.g. zh-CN
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaceEmbedding(Base):
    """One enrolled face; `model` is kept because vectors of different models don't compare."""

    __tablename__ = "face_embeddings"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes]
    source_sha256: Mapped[str] = mapped_column(String(SHA256_LEN))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(32), unique=True)
    keeper_person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))


class Citation(Base):
    __tablename__ = "citations"
    __table_args__ = (
        CheckConstraint(_one_of("status", Status), name="status"),
        Index("ix_citations_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    violation_id: Mapped[str] = mapped_column(ForeignKey("violations.id"), unique=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    notice_number: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    """Given on approval; with its PIN it opens the case in the portal (pipeline.notices)."""
    plate_text: Mapped[str | None] = mapped_column(String(32))
    plate_confidence: Mapped[float | None]
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    face_score: Mapped[float | None]
    identification: Mapped[dict[str, Any] | None]
    """How plate and person were found: votes, near matches, crops; see identify.stage."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(NAME_LEN))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A reviewer changed the plate or identity: the case goes to a supervisor's second review."""
    corrected_by: Mapped[str | None] = mapped_column(String(NAME_LEN))
    """Who last changed whom the case names; that person may not also approve it (four eyes)."""
    second_reviewed_by: Mapped[str | None] = mapped_column(String(NAME_LEN))
    second_reviewed_at: Mapped[datetime | None]
    citizen_files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """Files the portal added (sha256, role, media_type): the blurred key frames and clip the
    person fined watches (`portal:*`, see portal.media) and appeal uploads (`appeal:upload`).
    Retention deletes them with the evidence."""
    evidence_purged_at: Mapped[datetime | None]
    """When retention deleted the case's evidence files and manifest; see pipeline.retention."""
    face_crops_purged_at: Mapped[datetime | None]
    """When retention deleted the face crops of a person who was not cited."""


class CitationTransition(Base):
    """History of a citation's status; `from_state` is NULL for its creation."""

    __tablename__ = "citation_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None]
    """Set by an admin (`stopline users disable`): no login, and open sessions end."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(Base):
    """Wrong passwords counted for one client address or one login name (known or not, so the
    answers do not tell which names exist), and until when the next try must wait."""

    __tablename__ = "login_throttles"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """`address` or `account`."""
    subject: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    wait_until: Mapped[datetime | None]


class LoginSession(Base):
    """A console login; the cookie holds a random token, the table only its hash."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(SHA256_LEN), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One link of the hash chain; `id` is assigned by `audit.append`, gap-free, not by a
    sequence, so a deleted row shows as a jump and two writers cannot both extend one head."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_type_subject_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(ID_LEN))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(SHA256_LEN))
    row_hash: Mapped[str] = mapped_column(String(SHA256_LEN), unique=True)


class OutboxEvent(Base):
    """An event stored with the change it announces; `published_at` is set once it is sent."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    topic: Mapped[str] = mapped_column(String(NAME_LEN))
    key: Mapped[str] = mapped_column(String(NAME_LEN))
    payload: Mapped[bytes]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class SmsStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its (next) try at `next_attempt_at`."""
    SENDING = "sending"
    """Claimed by a sender; if it stays so past its lease, the sender died mid-send."""
    SENT = "sent"
    """Accepted by the carrier; a delivery receipt is awaited."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """The carrier reported the delivery failed."""
    DEAD = "dead"
    """Given up after the configured tries, or refused for good: a person must look."""
    UNSENDABLE = "unsendable"
    """Never tried: no recipient, or no valid phone number."""


class SmsOutbox(Base):
    """One SMS notice: the sender's to-do list and its record of every try."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        CheckConstraint(_one_of("status", SmsStatus), name="status"),
        Index("ix_sms_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    notice_type: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(35))
    body: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    gateway: Mapped[str | None] = mapped_column(String(32))
    gateway_message_id: Mapped[str | None] = mapped_column(String(NAME_LEN), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class ProcessedEvent(Base):
    """Bus events a consumer group has applied; written in the same transaction as the effect."""

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class BillboardItem(Base):
    """An approved citation on one screen's playlist, from its approval until it expires or is
    taken down. `regions` are the people the display stage found in the offender picture, so
    every later render blurs the same bystanders without running a detector again."""

    __tablename__ = "billboard_items"
    __table_args__ = (
        # One item per citation and screen, however often the approval is delivered.
        UniqueConstraint("screen_id", "citation_id", name="uq_billboard_items_screen_citation"),
        Index("ix_billboard_items_playlist", "screen_id", "removed_at", "approved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    screen_id: Mapped[str] = mapped_column(String(ID_LEN))
    citation_id: Mapped[str] = mapped_column(ForeignKey("citations.id"), index=True)
    approved_at: Mapped[datetime]
    shown_from: Mapped[datetime | None]
    """The end of the appeal window where the deployment holds cases until then
    (`display.hold_for_appeal`); None: shown from the approval."""
    expires_at: Mapped[datetime]
    picture_sha256: Mapped[str | None] = mapped_column(String(SHA256_LEN))
    regions: Mapped[dict[str, Any]]
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(Text)
