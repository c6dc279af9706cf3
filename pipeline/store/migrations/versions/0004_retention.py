"""Retention: when a citation's evidence and its face crops were purged, so a purge runs once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("evidence_purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("face_crops_purged_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("face_crops_purged_at")
        batch.drop_column("evidence_purged_at")
