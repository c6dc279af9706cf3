"""The fined person's side: notice numbers (with a PIN derived from them, what a person opens
their case with), portal logins, appeals with what the person sent, payments, and billboard
items that wait for the end of the appeal window.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from pipeline.notices import new_notice_number

NOTICED = (
    "approved",
    "notified",
    "displayed",
    "delivery_failed",
    "appealed",
    "upheld",
    "dismissed",
    "paid",
)
"""Every status a reviewer's approval leads to."""

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("citations", sa.Column("notice_number", sa.String(16), nullable=True))
    op.create_index(op.f("ix_citations_notice_number"), "citations", ["notice_number"], unique=True)
    _number_approved_cases()
    op.add_column(
        "billboard_items", sa.Column("shown_from", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citation_id"],
            ["citations.id"],
            name=op.f("fk_portal_sessions_citation_id_citations"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_index(op.f("ix_portal_sessions_citation_id"), "portal_sessions", ["citation_id"])
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("nominee", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("upload_sha256", sa.String(64), nullable=True),
        sa.Column("upload_media_type", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citation_id"], ["citations.id"], name=op.f("fk_appeals_citation_id_citations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index(op.f("ix_appeals_citation_id"), "appeals", ["citation_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["citation_id"], ["citations.id"], name=op.f("fk_payments_citation_id_citations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_citation_id"), "payments", ["citation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_citation_id"), "payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_appeals_citation_id"), "appeals")
    op.drop_table("appeals")
    op.drop_index(op.f("ix_portal_sessions_citation_id"), "portal_sessions")
    op.drop_table("portal_sessions")
    with op.batch_alter_table("billboard_items") as batch:
        batch.drop_column("shown_from")
    op.drop_index(op.f("ix_citations_notice_number"), "citations")
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("notice_number")


def _number_approved_cases() -> None:
    """Cases approved before notice numbers existed get one now: their SMS (still to go out)
    needs it, and so does the person who opens the portal. An offline SQL script (`--sql`) has
    no rows to read, and is for new databases: there is nothing to number."""
    if context.is_offline_mode():
        return
    citations = sa.table(
        "citations", sa.column("id"), sa.column("status"), sa.column("notice_number")
    )
    bind = op.get_bind()
    ids = bind.execute(sa.select(citations.c.id).where(citations.c.status.in_(NOTICED)))
    given: set[str] = set()
    for citation_id in list(ids.scalars()):
        number = new_notice_number(given.__contains__)
        given.add(number)
        bind.execute(
            citations.update().where(citations.c.id == citation_id).values(notice_number=number)
        )
