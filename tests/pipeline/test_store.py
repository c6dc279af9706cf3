"""The SQL store on SQLite and PostgreSQL: schema, time zones, registries, the citation state
machine and bus idempotency. Every test that takes `store` or `database_url` runs on both.

Concurrency tests hold one transaction open until the other is provably waiting (PostgreSQL
shows it in pg_locks); SQLite's waiting is not observable, but there the outcome is the same
whichever thread goes first, which is the point.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from pipeline.bus.idempotency import Deduper
from pipeline.events import SignalSnapshot, ViolationDetected
from pipeline.notices import is_notice_number
from pipeline.store import (
    TRANSITIONS,
    AlreadyProcessed,
    Base,
    IllegalTransition,
    Role,
    SqlDeduper,
    Status,
    Store,
    create_citation,
    history,
    migrate,
    transition,
    verify_chain,
)
from pipeline.store.audit import append
from pipeline.store.engine import alembic_config, make_engine, open_store
from pipeline.store.idempotency import mark, seen
from pipeline.store.models import (
    AuditEntry,
    Camera,
    Citation,
    CitationTransition,
    Person,
    Violation,
    utcnow,
)
from pipeline.store.registry import (
    add_face_embedding,
    add_person,
    add_user,
    add_vehicle,
    ensure_user,
    face_gallery,
    get_person,
    get_user,
    get_vehicle,
    put_camera,
    put_person,
    put_vehicle,
    record_violation,
    vehicles_near,
)

REVIEWER, SUPERVISOR, AUDITOR = "rita", "sam", "ada"
STAGE = "system:test"
_BLOCKED_DEADLINE_S = 30.0

T = TypeVar("T")


def _violation_event(camera_id: str = "cam-1", **overrides: object) -> ViolationDetected:
    fields: dict[str, object] = {
        "violation_id": uuid.uuid4().hex,
        "kind": "red_light",
        "camera_id": camera_id,
        "occurred_at": datetime(2025, 11, 21, 8, 30, 15, 123456, tzinfo=UTC),
        "track_id": 7,
        "object_class": "car",
        "signal": SignalSnapshot(phase="red", source="vision", time_into_red_s=1.25),
        "rule": "stop_line_north",
        "manifest_sha256": "ab" * 32,
    }
    return ViolationDetected.model_validate(fields | overrides)


def _record(store: Store, **overrides: object) -> str:
    event = _violation_event(**overrides)
    with store.session() as session:
        put_camera(session, event.camera_id, "North approach", "Main St / 1st Ave")
        record_violation(session, event)
    return event.violation_id


def _new_citation(store: Store) -> str:
    violation_id = _record(store)
    with store.session() as session:
        return create_citation(session, violation_id).id


@pytest.fixture
def staff(store: Store) -> Store:
    """The store with one user per role that matters to the state machine."""
    with store.session() as session:
        add_user(session, REVIEWER, "hash-r", Role.REVIEWER)
        add_user(session, SUPERVISOR, "hash-s", Role.SUPERVISOR)
        add_user(session, AUDITOR, "hash-a", "auditor")
    return store


def _wait_until_blocked(store: Store) -> None:
    """Return once some transaction waits for a lock (PostgreSQL); SQLite cannot show it."""
    if store.engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + _BLOCKED_DEADLINE_S
    while time.monotonic() < deadline:
        with store.engine.connect() as connection:
            if connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                return
        time.sleep(0.01)
    pytest.fail("the second transaction never waited for the first one's lock")


def _race(
    store: Store, first: Callable[[Session], T], second: Callable[[Session], object]
) -> tuple[T, object]:
    """Run `first` in a transaction held open until `second`, in its own, waits behind it.

    Returns first's result, and second's result or the exception it raised.
    """
    first_done, release = threading.Event(), threading.Event()

    def hold_first() -> T:
        with store.session() as session:
            result = first(session)
            first_done.set()
            release.wait()
        return result

    def run_second() -> object:
        first_done.wait()
        try:
            with store.session() as session:
                return second(session)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(hold_first)
        waiting = pool.submit(run_second)
        first_done.wait()
        _wait_until_blocked(store)
        release.set()
        return held.result(), waiting.result()


# --- schema and engine ---------------------------------------------------------------------


def test_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrate_is_idempotent_and_reaches_head(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head == "0015"
    finally:
        engine.dispose()


def _citation_as_of_0006(session: Session, violation_id: str, citation_id: str) -> None:
    """A citation with its history and audit rows, written with the columns 0006 has (today's
    model has later ones, which the ORM would read and write)."""
    now = utcnow()
    columns = {"violation_id": violation_id, "camera_id": "cam-1", "corrected": False}
    session.execute(
        insert(Citation.__table__).values(
            id=citation_id, status="pending_review", created_at=now, updated_at=now, **columns
        )
    )
    for before, after in ((None, "detected"), ("detected", "pending_review")):
        session.add(
            CitationTransition(
                citation_id=citation_id, from_state=before, to_state=after, actor=STAGE, at=now
            )
        )
        detail = {"from": before, "to": after, "reason": None}
        append(session, STAGE, "citation.transition", "citation", citation_id, detail)


def test_delivery_failed_migration_keeps_rows_and_their_references(database_url: str) -> None:
    """0007 rebuilds `citations` on SQLite: its rows, the rows that point at them and the
    audit chain must come through; the new status is allowed, a made-up one is not."""
    config = alembic_config(database_url)
    command.upgrade(config, "0006")
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            put_camera(session, "cam-1", "cam-1")
            event = _violation_event()
            record_violation(session, event)
            _citation_as_of_0006(session, event.violation_id, "c-migrate")
    finally:
        engine.dispose()
    command.upgrade(config, "head")
    store = open_store(database_url)
    try:
        with store.session() as session:
            citation = session.get(Citation, "c-migrate")
            assert citation is not None and citation.status == Status.PENDING_REVIEW
            assert len(history(session, "c-migrate")) == 2, "transitions still point at it"
            assert verify_chain(session).ok
            citation.status = Status.DELIVERY_FAILED
        with pytest.raises(IntegrityError), store.session() as session:
            session.execute(text("UPDATE citations SET status = 'lost' WHERE id = 'c-migrate'"))
    finally:
        store.close()


def test_cases_approved_before_notice_numbers_get_one(database_url: str) -> None:
    """0011 numbers the cases already approved (their SMS and portal need one), not the rest."""
    config = alembic_config(database_url)
    command.upgrade(config, "0010")
    engine = make_engine(database_url)
    now = utcnow()
    try:
        with Session(engine) as session, session.begin():
            put_camera(session, "cam-1", "cam-1")
            for status in ("pending_review", "approved", "notified"):
                event = _violation_event().model_copy(update={"violation_id": f"v-{status}"})
                record_violation(session, event)
                session.execute(
                    text(
                        "INSERT INTO citations (id, violation_id, camera_id, status, corrected,"
                        " created_at, updated_at) VALUES (:id, :v, 'cam-1', :s, false, :t, :t)"
                    ),
                    {"id": f"c-{status}", "v": f"v-{status}", "s": status, "t": now},
                )
    finally:
        engine.dispose()
    command.upgrade(config, "head")
    store = open_store(database_url)
    try:
        with store.session() as session:
            numbers = dict(session.execute(select(Citation.status, Citation.notice_number)).all())
    finally:
        store.close()
    assert numbers["pending_review"] is None
    assert all(is_notice_number(numbers[s] or "") for s in ("approved", "notified"))
    assert numbers["approved"] != numbers["notified"]


def test_downgrade_removes_everything_and_upgrade_restores_it(database_url: str) -> None:
    migrate(database_url)
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {
            "alembic_version"
        }
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "trigger"),
    [
        ("sqlite:///unused.db", "CREATE TRIGGER audit_log_no_delete"),
        ("postgresql+psycopg://nobody@localhost/unused", "CREATE TRIGGER audit_log_no_truncate"),
    ],
)
def test_offline_sql_includes_the_append_only_triggers(
    url: str, trigger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command.upgrade(alembic_config(url), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE audit_log" in sql
    assert trigger in sql


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x@localhost/db"])
def test_unsupported_databases_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"memory|unsupported"):
        make_engine(url)


def test_session_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        put_camera(session, "cam-9", "Ninth")
        session.flush()
        raise RuntimeError("handler failed")
    with store.session() as session:
        assert session.get(Camera, "cam-9") is None


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        record_violation(session, _violation_event(camera_id="no-such-camera"))


def test_status_outside_the_state_set_is_refused_by_the_database(store: Store) -> None:
    citation_id = _new_citation(store)
    with pytest.raises(IntegrityError), store.session() as session:
        session.execute(update(Citation).where(Citation.id == citation_id).values(status="lost"))


# --- time zones ----------------------------------------------------------------------------


def test_datetimes_come_back_aware_in_utc(store: Store) -> None:
    beijing = timezone(timedelta(hours=8))
    local = datetime(2025, 11, 21, 16, 30, 15, 123456, tzinfo=beijing)
    violation_id = _record(store, occurred_at=local)
    with store.session() as session:
        stored = session.get(Violation, violation_id)
        assert stored is not None
        assert stored.occurred_at == local
        assert stored.occurred_at.tzinfo is UTC
        assert stored.occurred_at.hour == 8 and stored.occurred_at.microsecond == 123456
        found = session.scalars(
            select(Violation.id).where(Violation.occurred_at > local - timedelta(microseconds=1))
        ).all()
        assert found == [violation_id]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        _record(store, occurred_at=datetime(2025, 11, 21, 8, 30))


# --- registries ----------------------------------------------------------------------------


def test_violation_is_recorded_once_with_its_event(store: Store) -> None:
    event = _violation_event()
    with store.session() as session:
        put_camera(session, event.camera_id, "North")
        first = record_violation(session, event)
    with store.session() as session:
        again = record_violation(session, event)
        assert again.id == first.id
        assert again.event == event.model_dump(mode="json")
        assert (again.kind, again.signal_phase, again.time_into_red_s) == ("red_light", "red", 1.25)
        assert session.scalar(select(func.count()).select_from(Violation)) == 1


def test_put_camera_updates_in_place(store: Store) -> None:
    with store.session() as session:
        put_camera(session, "cam-1", "Old name")
    with store.session() as session:
        put_camera(session, "cam-1", "New name", "Main St")
    with store.session() as session:
        camera = session.get(Camera, "cam-1")
        assert camera is not None and (camera.name, camera.location) == ("New name", "Main St")


def test_workers_syncing_one_camera_at_once_both_succeed(store: Store) -> None:
    def first(session: Session) -> None:
        put_camera(session, "cam-race", "From worker A")
        session.flush()

    _, second = _race(store, first, lambda s: put_camera(s, "cam-race", "From worker B", "Here"))
    assert not isinstance(second, Exception), second
    with store.session() as session:
        camera = session.get(Camera, "cam-race")
        assert camera is not None and camera.name == "From worker B"


def test_workers_ensuring_one_user_at_once_both_succeed(store: Store) -> None:
    def first(session: Session) -> bool:
        _, created = ensure_user(session, "policy", "!", Role.REVIEWER)
        session.flush()
        return created

    created_first, second = _race(
        store, first, lambda s: ensure_user(s, "policy", "!", Role.REVIEWER)[1]
    )
    assert (created_first, second) == (True, False)


def test_people_vehicles_faces(store: Store) -> None:
    with store.session() as session:
        person = add_person(
            session,
            "张三明",
            national_id="110101199001011234",
            phone="+8613800138000",
            language="zh-CN",
        )
        add_vehicle(session, "京A12345", keeper_person_id=person.id)
        add_face_embedding(
            session, person.id, model="sface", vector=b"\x01\x02", source_sha256="c" * 64
        )
        add_face_embedding(
            session, person.id, model="other", vector=b"\x03", source_sha256="d" * 64
        )
    with store.session() as session:
        found = get_person(session, person.id)
        assert found is not None and found.name == "张三明" and found.language == "zh-CN"
        vehicle = get_vehicle(session, "京A12345")
        assert vehicle is not None and vehicle.keeper_person_id == person.id
        assert get_vehicle(session, "京A99999") is None
        assert [(e.person_id, e.vector) for e in face_gallery(session, "sface")] == [
            (person.id, b"\x01\x02")
        ]
    with pytest.raises(IntegrityError), store.session() as session:
        add_vehicle(session, "京A12345")


def test_vehicles_near_finds_exactly_the_plates_one_edit_away(store: Store) -> None:
    plates = ["京A12345", "京A12346", "京A1234", "京A123456", "京B12345", "京A12354", "A_12345"]
    with store.session() as session:
        for plate in plates:
            add_vehicle(session, plate)
    with store.session() as session:
        near = sorted(v.plate for v in vehicles_near(session, "京A12345"))
        # Not the plate itself, not a swap of two characters (two edits).
        assert near == ["京A1234", "京A123456", "京A12346", "京B12345"]
        assert [v.plate for v in vehicles_near(session, "X_12345")] == ["A_12345"]
        assert vehicles_near(session, "京%") == [], "% is a character, not a wildcard"
        assert vehicles_near(session, "") == []


def test_registry_rows_are_updated_in_place(store: Store) -> None:
    with store.session() as session:
        assert put_person(session, "p1", "Ann", phone="+4915112345678") is True
        assert put_vehicle(session, "M5XSX", "p1") is True
    with store.session() as session:
        assert put_person(session, "p1", "Ann Lee", phone="+4915100000000") is False
        assert put_vehicle(session, "M5XSX", None) is False
    with store.session() as session:
        person = get_person(session, "p1")
        assert person is not None and (person.name, person.phone) == ("Ann Lee", "+4915100000000")
        vehicle = get_vehicle(session, "M5XSX")
        assert vehicle is not None and vehicle.keeper_person_id is None


def test_users(store: Store) -> None:
    with store.session() as session:
        add_user(session, "rita", "$argon2id$...", Role.REVIEWER)
    with store.session() as session:
        user = get_user(session, "rita")
        assert user is not None
        assert (user.role, user.password_hash, user.disabled_at) == (
            "reviewer",
            "$argon2id$...",
            None,
        )
        assert get_user(session, "nobody") is None
    with pytest.raises(ValueError, match="janitor"), store.session() as session:
        add_user(session, "joe", "h", "janitor")
    with pytest.raises(IntegrityError), store.session() as session:
        add_user(session, "rita", "h", Role.AUDITOR)


# --- citations -----------------------------------------------------------------------------


def _actor_for(pair: tuple[Status, Status]) -> str:
    """Someone the table allows to make `pair`; for pairs not in it, the most trusted user."""
    rule = TRANSITIONS.get(pair)
    if rule is None:
        return SUPERVISOR
    if rule.roles is None:
        return STAGE
    return REVIEWER if Role.REVIEWER in rule.roles else SUPERVISOR


def _put_in(store: Store, citation_id: str, state: Status) -> None:
    """Arrange a state directly, bypassing the machine, so every pair can be tried."""
    with store.session() as session:
        session.execute(update(Citation).where(Citation.id == citation_id).values(status=state))


def test_every_pair_of_states_follows_the_table(staff: Store) -> None:
    mismatches = []
    for source in Status:
        for target in Status:
            citation_id = _new_citation(staff)
            _put_in(staff, citation_id, source)
            actor = _actor_for((source, target))
            try:
                with staff.session() as session:
                    transition(session, citation_id, target, actor, reason="checked")
                allowed = True
            except IllegalTransition as exc:
                assert (exc.from_state, exc.to_state) == (source, target)
                assert f"{source} -> {target}" in str(exc)
                allowed = False
            if allowed != ((source, target) in TRANSITIONS):
                mismatches.append((source, target, allowed))
                continue
            with staff.session() as session:
                citation = session.get(Citation, citation_id)
                assert citation is not None
                assert citation.status == (target if allowed else source)
                last = history(session, citation_id)[-1]
                audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
            assert audit is not None
            if allowed:
                assert (last.from_state, last.to_state, last.actor) == (source, target, actor)
                assert (audit.subject_id, audit.action, audit.actor) == (
                    citation_id,
                    "citation.transition",
                    actor,
                )
                assert audit.detail == {"from": source, "to": target, "reason": "checked"}
            else:
                # Nothing after creation: the refused change left no trace.
                assert last.to_state == Status.PENDING_REVIEW
                assert audit.detail["to"] == Status.PENDING_REVIEW
    assert mismatches == []
    with staff.session() as session:
        assert verify_chain(session).ok


def test_create_citation_puts_it_in_review_once(store: Store) -> None:
    violation_id = _record(store)
    with store.session() as session:
        first = create_citation(
            session, violation_id, citation_id="cit-1", plate_text="京A12345", plate_confidence=0.93
        )
    with store.session() as session:
        again = create_citation(session, violation_id, citation_id="cit-other")
        steps = [(h.from_state, h.to_state) for h in history(session, "cit-1")]
        audited = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_id == "cit-1")
            .order_by(AuditEntry.id)
        ).all()
    assert first.id == again.id == "cit-1"
    assert (again.status, again.camera_id, again.plate_text) == (
        "pending_review",
        "cam-1",
        "京A12345",
    )
    assert steps == [(None, "detected"), ("detected", "pending_review")]
    assert audited == ["citation.created", "citation.transition"]


def test_create_citation_needs_a_recorded_violation(store: Store) -> None:
    with pytest.raises(LookupError), store.session() as session:
        create_citation(session, "never-recorded")


def test_concurrent_create_citation_yields_one(store: Store) -> None:
    violation_id = _record(store)
    first, second = _race(
        store,
        lambda session: create_citation(session, violation_id, citation_id="a").id,
        lambda session: create_citation(session, violation_id, citation_id="b").id,
    )
    assert first == second == "a"
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Citation)) == 1
        assert len(history(session, "a")) == 2


def test_approve_and_reject_at_once_only_one_wins(staff: Store) -> None:
    citation_id = _new_citation(staff)
    approved, rejected = _race(
        staff,
        lambda session: transition(session, citation_id, Status.APPROVED, REVIEWER).status,
        lambda session: transition(session, citation_id, "rejected", SUPERVISOR, "no violation"),
    )
    assert approved == Status.APPROVED
    assert isinstance(rejected, IllegalTransition)
    assert "approved -> rejected" in str(rejected)
    with staff.session() as session:
        decisions = [h.to_state for h in history(session, citation_id)][2:]
        citation = session.get(Citation, citation_id)
    assert decisions == ["approved"]
    assert citation is not None and citation.decided_by == REVIEWER


def test_simultaneous_decisions_have_one_winner(staff: Store) -> None:
    """No ordering imposed here: whichever gets in first wins, the other must fail."""
    for _ in range(5):
        citation_id = _new_citation(staff)
        barrier = threading.Barrier(2)

        def decide(
            target: Status, actor: str, cid: str = citation_id, gate: threading.Barrier = barrier
        ) -> object:
            gate.wait()
            try:
                with staff.session() as session:
                    return transition(session, cid, target, actor, reason="seen on video").status
            except IllegalTransition as exc:
                return exc

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(
                pool.map(decide, [Status.APPROVED, Status.REJECTED], [REVIEWER, SUPERVISOR])
            )
        winners = [o for o in outcomes if not isinstance(o, IllegalTransition)]
        assert len(winners) == 1
        with staff.session() as session:
            citation = session.get(Citation, citation_id)
            assert citation is not None and citation.status == winners[0]
            assert len(history(session, citation_id)) == 3


@pytest.mark.parametrize(
    ("path", "actors"),
    [
        (
            ["approved", "notified", "displayed", "appealed", "upheld", "paid"],
            [REVIEWER, STAGE, STAGE, STAGE, SUPERVISOR, STAGE],
        ),
        (["approved", "displayed", "notified", "paid"], [SUPERVISOR, STAGE, STAGE, STAGE]),
        (["rejected", "pending_review", "approved"], [REVIEWER, SUPERVISOR, REVIEWER]),
        (["approved", "notified", "appealed", "dismissed"], [REVIEWER, STAGE, STAGE, SUPERVISOR]),
    ],
)
def test_lifecycles(staff: Store, path: list[str], actors: list[str]) -> None:
    citation_id = _new_citation(staff)
    for state, actor in zip(path, actors, strict=True):
        with staff.session() as session:
            transition(session, citation_id, state, actor, reason=f"to {state}")
    with staff.session() as session:
        steps = [h.to_state for h in history(session, citation_id)]
    assert steps == ["detected", "pending_review", *path]


def test_decision_is_kept_on_the_citation_and_cleared_on_reopen(staff: Store) -> None:
    citation_id = _new_citation(staff)
    with staff.session() as session:
        rejected = transition(session, citation_id, Status.REJECTED, REVIEWER, "plate_unreadable")
        assert (rejected.decided_by, rejected.decision_reason) == (REVIEWER, "plate_unreadable")
    with staff.session() as session:
        reopened = transition(session, citation_id, Status.PENDING_REVIEW, SUPERVISOR, "new photo")
        assert (reopened.decided_by, reopened.decision_reason) == (None, None)


@pytest.mark.parametrize(
    ("from_state", "to_state", "actor", "reason", "message"),
    [
        ("pending_review", "approved", STAGE, None, "needs role reviewer, supervisor"),
        ("pending_review", "approved", AUDITOR, None, "'ada' has auditor"),
        ("rejected", "pending_review", REVIEWER, "looks fine", "needs role supervisor"),
        ("appealed", "dismissed", REVIEWER, "court said so", "needs role supervisor"),
        ("pending_review", "rejected", REVIEWER, None, "a reason is required"),
        ("pending_review", "rejected", REVIEWER, "  ", "a reason is required"),
    ],
)
def test_decisions_need_the_right_person_and_a_reason(
    staff: Store, from_state: Status, to_state: str, actor: str, reason: str | None, message: str
) -> None:
    citation_id = _new_citation(staff)
    _put_in(staff, citation_id, from_state)
    with pytest.raises(IllegalTransition, match=message), staff.session() as session:
        transition(session, citation_id, to_state, actor, reason)
    with staff.session() as session:
        citation = session.get(Citation, citation_id)
        assert citation is not None and citation.status == from_state


def test_who_corrected_whom_a_case_names_cannot_also_approve_it(staff: Store) -> None:
    """Issue 18: a reviewer set a case to another keeper's plate and approved it at once, and
    the SMS and billboard were queued before anyone else had looked."""
    citation_id = _new_citation(staff)
    with staff.session() as session:
        citation = session.get(Citation, citation_id)
        assert citation is not None
        citation.corrected, citation.corrected_by = True, REVIEWER
    refused = pytest.raises(IllegalTransition, match="another person must approve it")
    with refused, staff.session() as session:
        transition(session, citation_id, Status.APPROVED, REVIEWER)
    with staff.session() as session:
        transition(session, citation_id, Status.REJECTED, REVIEWER, "wrong keeper after all")
        assert session.get(Citation, citation_id).status == Status.REJECTED  # type: ignore[union-attr]
    _put_in(staff, citation_id, Status.PENDING_REVIEW)
    with staff.session() as session:
        approved = transition(session, citation_id, Status.APPROVED, SUPERVISOR)
        assert approved.decided_by == SUPERVISOR


def test_transition_of_unknown_citation_or_state(store: Store) -> None:
    with pytest.raises(LookupError), store.session() as session:
        transition(session, "nope", Status.APPROVED, REVIEWER)
    citation_id = _new_citation(store)
    with pytest.raises(ValueError, match="'closed'"), store.session() as session:
        transition(session, citation_id, "closed", SUPERVISOR)


# --- bus idempotency -----------------------------------------------------------------------


def test_seen_and_mark_in_the_handler_transaction(store: Store) -> None:
    with store.session() as session:
        assert not seen(session, "citations", "evt-1")
        mark(session, "citations", "evt-1")
        assert seen(session, "citations", "evt-1")
    with store.session() as session:
        assert seen(session, "citations", "evt-1")
        assert not seen(session, "notifier", "evt-1")
        assert not seen(session, "citations", "evt-2")


def test_marking_twice_rolls_back_the_duplicate_effect(store: Store) -> None:
    with store.session() as session:
        mark(session, "citations", "evt-1")
    with pytest.raises(AlreadyProcessed, match="evt-1"), store.session() as session:
        put_camera(session, "cam-dup", "written by the duplicate")
        mark(session, "citations", "evt-1")
    with store.session() as session:
        assert session.get(Camera, "cam-dup") is None


def test_concurrent_duplicate_delivery_applies_once(store: Store) -> None:
    def handle(session: Session) -> str:
        if seen(session, "citations", "evt-1"):
            return "skipped"
        add_person(session, "effect of evt-1")
        mark(session, "citations", "evt-1")
        return "applied"

    first, second = _race(store, handle, handle)
    assert first == "applied"
    # PostgreSQL: both saw nothing, the second lost on the key. SQLite: the second waited.
    assert isinstance(second, AlreadyProcessed) or second == "skipped"
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_sql_deduper_matches_the_bus_protocol(store: Store) -> None:
    deduper: Deduper = SqlDeduper(store)
    assert not deduper.seen("notifier", "evt-1")
    deduper.mark("notifier", "evt-1")
    deduper.mark("notifier", "evt-1")
    assert deduper.seen("notifier", "evt-1")
    assert not deduper.seen("display", "evt-1")
