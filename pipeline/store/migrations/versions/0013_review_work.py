"""Case leases (the reviewer who opened a pending case holds it for a while, so two reviewers
never decide one case) and the blind decisions of the double-review sample.

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

    op.create_table(
        "blind_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("citation_id", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citation_id"], ["citations.id"], name=op.f("fk_blind_reviews_citation_id_citations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blind_reviews")),
        sa.UniqueConstraint("citation_id", "reviewer", name="uq_blind_reviews_once"),
    )
    op.create_index(op.f("ix_blind_reviews_citation_id"), "blind_reviews", ["citation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_blind_reviews_citation_id"), "blind_reviews")
    op.drop_table("blind_reviews")
    op.drop_table("case_leases")
