"""Review console: login sessions, second review of rejected or corrected cases, and the index
the queue reads in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Plain ADD COLUMNs (SQLite allows a constant default), so no table copy: the offline
    # --sql script stays possible on both databases.
    op.add_column(
        "citations",
        sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("citations", sa.Column("second_reviewed_by", sa.String(200), nullable=True))
    op.add_column(
        "citations", sa.Column("second_reviewed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_citations_status_created", "citations", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_citations_status_created", "citations")
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("second_reviewed_at")
        batch.drop_column("second_reviewed_by")
        batch.drop_column("corrected")
    op.drop_table("sessions")
