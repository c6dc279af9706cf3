"""Case leases: the reviewer who opened a pending case holds it for a while, so two reviewers
never decide one case.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_leases",
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citation_id"], ["citations.id"], name=op.f("fk_case_leases_citation_id_citations")
        ),
        sa.PrimaryKeyConstraint("citation_id", name=op.f("pk_case_leases")),
    )


def downgrade() -> None:
    op.drop_table("case_leases")
