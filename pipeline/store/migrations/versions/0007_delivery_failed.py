"""Citation status `delivery_failed`: the carrier reported that the SMS notice never arrived.

SQLite cannot change a CHECK constraint in place, so there the table is rebuilt from the
definition below, given explicitly so that the offline --sql script needs no live database.
`migration_connection` runs it with foreign keys unenforced and checks them afterwards; an
offline SQLite script must likewise be run with `PRAGMA foreign_keys=OFF`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
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
AFTER = (*BEFORE, "delivery_failed")


def _one_of(values: Sequence[str]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def _citations(statuses: Sequence[str]) -> sa.Table:
    """`citations` as revisions 0001 to 0004 left it."""

    def utc() -> sa.DateTime:
        return sa.DateTime(timezone=True)

    return sa.Table(
        "citations",
        sa.MetaData(),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("violation_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plate_text", sa.String(32), nullable=True),
        sa.Column("plate_confidence", sa.Double(), nullable=True),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("face_score", sa.Double(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("identification", sa.JSON(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("second_reviewed_by", sa.String(200), nullable=True),
        sa.Column("second_reviewed_at", utc(), nullable=True),
        sa.Column("evidence_purged_at", utc(), nullable=True),
        sa.Column("face_crops_purged_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_citations"),
        sa.UniqueConstraint("violation_id", name="uq_citations_violation_id"),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name="fk_citations_violation_id_violations"
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name="fk_citations_camera_id_cameras"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_citations_person_id_persons"
        ),
        sa.CheckConstraint(_one_of(statuses), name="ck_citations_status"),
        sa.Index("ix_citations_status", "status"),
        sa.Index("ix_citations_status_created", "status", "created_at"),
    )


def _allow(before: Sequence[str], after: Sequence[str]) -> None:
    name = op.f("ck_citations_status")
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(name, "citations", type_="check")
        op.create_check_constraint(name, "citations", _one_of(after))
        return
    with op.batch_alter_table(
        "citations", copy_from=_citations(before), recreate="always"
    ) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, _one_of(after))


def upgrade() -> None:
    _allow(BEFORE, AFTER)


def downgrade() -> None:
    _allow(AFTER, BEFORE)
