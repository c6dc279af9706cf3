"""The audit log: append-only (database triggers refuse UPDATE and DELETE) and hash-chained.

Each row's `row_hash` is SHA-256 over a canonical JSON of its fields including `prev_hash`, the
hash of the row before it, so a changed row breaks its own hash and a removed row breaks the
link of its successor. Appends are serialised so the chain never forks: a transaction-scoped
advisory lock on PostgreSQL, the `BEGIN IMMEDIATE` write lock that every store transaction
takes on SQLite, and in any case the gap-free primary key `id = previous id + 1`, which makes a
second writer extending the same head fail on the key instead of forking.

The advisory lock is held until the transaction ends and serialises every auditing
transaction from that point, so append last, after the row locks of the change it records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pipeline.hashing import canonical_json, sha256_hex
from pipeline.store.models import AuditEntry, utcnow

GENESIS_HASH = "0" * 64
_APPEND_LOCK_KEY = 0x61756469746C6F67  # "auditlog"


@dataclass(frozen=True)
class ChainReport:
    """Outcome of `verify_chain`; `head_hash` is worth keeping outside the database, since a
    chain cut at its end still verifies and only a remembered head shows the cut."""

    ok: bool
    rows_checked: int
    head_hash: str
    bad_row_id: int | None = None
    reason: str | None = None


def row_hash(
    *,
    id: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash a row must carry; `at` counts in UTC microseconds, as both databases keep it."""
    fields = {
        "id": id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return sha256_hex(canonical_json(fields).encode())


def _entry_hash(entry: AuditEntry) -> str:
    return row_hash(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail,
        prev_hash=entry.prev_hash,
    )


def append(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add a row at the head of the chain, in the caller's transaction.

    `detail` must be JSON; it is stored as it reads back from JSON, so the hash verifies later.
    """
    stored_detail = json.loads(canonical_json(detail or {}))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
    head = session.execute(
        select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry_id, prev_hash = (head.id + 1, head.row_hash) if head else (1, GENESIS_HASH)
    entry = AuditEntry(
        id=entry_id,
        at=utcnow(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=stored_detail,
        prev_hash=prev_hash,
    )
    entry.row_hash = _entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> ChainReport:
    """Recompute the chain from its first row and report the first bad row.

    Reads in batches, so a chain of any length fits in memory.
    """
    entries = session.scalars(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    )
    expected_id, prev_hash, checked = 1, GENESIS_HASH, 0
    for entry in entries:
        if entry.id != expected_id:
            reason = f"row ids jump from {expected_id - 1} to {entry.id}: rows were deleted"
        elif entry.prev_hash != prev_hash:
            reason = "prev_hash does not match the previous row's hash"
        elif entry.row_hash != _entry_hash(entry):
            reason = "row_hash does not match the row's contents"
        else:
            expected_id, prev_hash, checked = entry.id + 1, entry.row_hash, checked + 1
            continue
        return ChainReport(False, checked, prev_hash, bad_row_id=entry.id, reason=reason)
    return ChainReport(True, checked, prev_hash)
