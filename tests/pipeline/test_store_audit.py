"""The hash-chained, append-only audit log on SQLite and PostgreSQL.

Tampering is simulated the way a database owner could do it: switch the append-only triggers
off (SQLite: drop them; PostgreSQL: disable them) and rewrite rows with plain SQL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from pipeline.store import ChainReport, Store, verify_chain
from pipeline.store.audit import GENESIS_HASH, append, row_hash
from pipeline.store.models import AuditEntry


def _append_n(store: Store, count: int) -> None:
    for n in range(1, count + 1):
        with store.session() as session:
            append(session, "rita", "citation.transition", "citation", f"cit-{n}", {"n": n})


def _owner_sql(store: Store, *statements: str) -> None:
    """Run statements with the append-only triggers off, as the database owner could."""
    with store.engine.begin() as connection:
        _triggers_off(connection)
        for statement in statements:
            connection.execute(text(statement))


def _triggers_off(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))


def _report(store: Store) -> ChainReport:
    with store.session() as session:
        return verify_chain(session)


def test_appends_form_a_verifiable_chain(store: Store) -> None:
    assert _report(store) == ChainReport(True, 0, GENESIS_HASH)
    _append_n(store, 3)
    with store.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        report = verify_chain(session)
    assert [r.id for r in rows] == [1, 2, 3]
    assert [r.prev_hash for r in rows] == [GENESIS_HASH, rows[0].row_hash, rows[1].row_hash]
    assert (report.ok, report.rows_checked, report.head_hash) == (True, 3, rows[2].row_hash)
    assert (report.bad_row_id, report.reason) == (None, None)


def test_detail_is_stored_as_json_would_read_it_back(store: Store) -> None:
    with store.session() as session:
        append(session, "rita", "login", "user", "rita", {"ips": ("10.0.0.1",), "score": 0.1})
    with store.session() as session:
        entry = session.get(AuditEntry, 1)
        assert entry is not None and entry.detail == {"ips": ["10.0.0.1"], "score": 0.1}
        assert entry.at.tzinfo is not None
    assert _report(store).ok


def test_detail_must_be_json(store: Store) -> None:
    with pytest.raises(ValueError), store.session() as session:
        append(session, "rita", "login", "user", "rita", {"score": float("nan")})


def test_rows_cannot_be_changed_or_deleted(store: Store) -> None:
    _append_n(store, 2)
    statements = ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log WHERE id = 2"]
    if store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    assert _report(store).rows_checked == 2


def test_a_modified_row_is_found(store: Store) -> None:
    _append_n(store, 4)
    _owner_sql(store, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    report = _report(store)
    assert (report.ok, report.bad_row_id, report.rows_checked) == (False, 3, 2)
    assert "row_hash" in (report.reason or "")


def test_a_modified_row_with_a_recomputed_hash_breaks_the_next_link(store: Store) -> None:
    _append_n(store, 4)
    with store.session() as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        forged = row_hash(
            id=row.id,
            at=row.at,
            actor="mallory",
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
    _owner_sql(store, f"UPDATE audit_log SET actor = 'mallory', row_hash = '{forged}' WHERE id = 2")
    report = _report(store)
    assert (report.ok, report.bad_row_id) == (False, 3)
    assert "prev_hash" in (report.reason or "")


def test_a_deleted_middle_row_is_found(store: Store) -> None:
    _append_n(store, 4)
    _owner_sql(store, "DELETE FROM audit_log WHERE id = 2")
    report = _report(store)
    assert (report.ok, report.bad_row_id, report.rows_checked) == (False, 3, 1)
    assert "from 1 to 3" in (report.reason or "")


def test_a_cut_tail_shows_only_in_the_head_hash(store: Store) -> None:
    """The documented limit: keep `head_hash` outside the database to notice this."""
    _append_n(store, 3)
    before = _report(store)
    _owner_sql(store, "DELETE FROM audit_log WHERE id = 3")
    after = _report(store)
    assert after.ok and after.rows_checked == 2
    assert after.head_hash != before.head_hash


def test_concurrent_appends_do_not_fork(store: Store) -> None:
    def worker(name: str) -> None:
        for n in range(10):
            with store.session() as session:
                append(session, name, "tick", "test", str(n))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(worker, ["a", "b", "c", "d"]))
    report = _report(store)
    assert (report.ok, report.rows_checked) == (True, 40)
