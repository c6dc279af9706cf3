"""Camera assignments: the reviewers a supervisor put on each camera's cases.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_assignments",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_camera_assignments_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("camera_id", "reviewer", name=op.f("pk_camera_assignments")),
    )


def downgrade() -> None:
    op.drop_table("camera_assignments")
