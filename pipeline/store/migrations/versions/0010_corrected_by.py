"""Who corrected a case's identity, so that another person must approve it (four eyes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("corrected_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("corrected_by")
