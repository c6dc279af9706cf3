"""Initial schema: cameras, violations, citations and their history, registries, users,
the hash-chained audit log (append-only by trigger) and the bus consumers' processed events.

Revision ID: 0001
Revises:
Create Date: 2025-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the value sets at this revision: a migration must not follow later code.
_STATUSES = (
    "detected",
    "pending_review",
    "approved",
    "rejected",
    "notified",
    "displayed",
    "paid",
    "appealed",
    "upheld",
    "dismissed",
)
_ROLES = ("reviewer", "supervisor", "auditor", "admin")

_APPEND_ONLY = "audit_log is append-only"
_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
    BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"""
    for verb in ("UPDATE", "DELETE")
]
_POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    """CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()""",
]


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("national_id", sa.String(32), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("national_id", name=op.f("uq_persons_national_id")),
    )
    op.create_table(
        "violations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(16), nullable=False),
        sa.Column("signal_phase", sa.String(8), nullable=True),
        sa.Column("time_into_red_s", sa.Double(), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_violations_camera_id_cameras")
        ),
        sa.CheckConstraint(
            _one_of("kind", ("red_light", "jaywalk")), name=op.f("ck_violations_kind")
        ),
        sa.CheckConstraint(
            _one_of("signal_phase", ("red", "amber", "green", "unknown")),
            name=op.f("ck_violations_signal_phase"),
        ),
    )
    op.create_index(
        "ix_violations_camera_id_occurred_at", "violations", ["camera_id", "occurred_at"]
    )
    op.create_table(
        "face_embeddings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_embeddings")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_face_embeddings_person_id_persons")
        ),
    )
    op.create_index(op.f("ix_face_embeddings_person_id"), "face_embeddings", ["person_id"])
    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("keeper_person_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("plate", name=op.f("uq_vehicles_plate")),
        sa.ForeignKeyConstraint(
            ["keeper_person_id"],
            ["persons.id"],
            name=op.f("fk_vehicles_keeper_person_id_persons"),
        ),
    )
    op.create_table(
        "citations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("violation_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plate_text", sa.String(32), nullable=True),
        sa.Column("plate_confidence", sa.Double(), nullable=True),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("face_score", sa.Double(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citations")),
        sa.UniqueConstraint("violation_id", name=op.f("uq_citations_violation_id")),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name=op.f("fk_citations_violation_id_violations")
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_citations_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_citations_person_id_persons")
        ),
        sa.CheckConstraint(_one_of("status", _STATUSES), name=op.f("ck_citations_status")),
    )
    op.create_index(op.f("ix_citations_status"), "citations", ["status"])
    op.create_table(
        "citation_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citation_transitions")),
        sa.ForeignKeyConstraint(
            ["citation_id"],
            ["citations.id"],
            name=op.f("fk_citation_transitions_citation_id_citations"),
        ),
    )
    op.create_index(
        op.f("ix_citation_transitions_citation_id"), "citation_transitions", ["citation_id"]
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.CheckConstraint(_one_of("role", _ROLES), name=op.f("ck_users_role")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_audit_log_row_hash")),
    )
    op.create_index(
        "ix_audit_log_subject_type_subject_id", "audit_log", ["subject_type", "subject_id"]
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("processed_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=op.f("pk_processed_events")),
    )
    for statement in _append_only_triggers():
        op.execute(statement)


def _append_only_triggers() -> list[str]:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        return _SQLITE_TRIGGERS
    if dialect == "postgresql":
        return _POSTGRESQL_TRIGGERS
    raise NotImplementedError(f"no append-only trigger for {dialect}")


def downgrade() -> None:
    # Dropping audit_log drops its triggers with it; the PostgreSQL function stays otherwise.
    for table in (
        "processed_events",
        "audit_log",
        "users",
        "citation_transitions",
        "citations",
        "vehicles",
        "face_embeddings",
        "violations",
        "persons",
        "cameras",
    ):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_refuse_change()")
