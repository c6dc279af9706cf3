"""Billboard playlists: one row per approved citation and screen, until it expires or is
taken down.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billboard_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("screen_id", sa.String(64), nullable=False),
        sa.Column(
            "citation_id", sa.String(64), sa.ForeignKey("citations.id"), nullable=False, index=True
        ),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("picture_sha256", sa.String(64), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("screen_id", "citation_id", name="uq_billboard_items_screen_citation"),
    )
    op.create_index(
        "ix_billboard_items_playlist",
        "billboard_items",
        ["screen_id", "removed_at", "approved_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_billboard_items_playlist", "billboard_items")
    op.drop_table("billboard_items")
