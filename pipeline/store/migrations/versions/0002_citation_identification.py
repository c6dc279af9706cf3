"""Citations keep how their plate and person were found (votes, near matches, crops).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("citations", sa.Column("identification", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("citations", "identification")
