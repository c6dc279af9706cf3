"""Crossings a safeguard kept from being cited (unknown phase, grace period, amber too short,
...), recorded with their evidence for the supervisors' "why not cited" page.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the value sets at this revision: a migration must not follow later code.
_SAFEGUARDS = (
    "unknown_phase",
    "red_onset_not_seen",
    "grace_period",
    "amber_too_short",
    "turn_allowed",
)
_PHASES = ("red", "amber", "green", "unknown")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "suppressed_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("safeguard", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(16), nullable=False),
        sa.Column("signal_phase", sa.String(8), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressed_events")),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_suppressed_events_camera_id_cameras")
        ),
        sa.CheckConstraint(
            _one_of("kind", ("red_light", "jaywalk")), name=op.f("ck_suppressed_events_kind")
        ),
        sa.CheckConstraint(
            _one_of("safeguard", _SAFEGUARDS), name=op.f("ck_suppressed_events_safeguard")
        ),
        sa.CheckConstraint(
            _one_of("signal_phase", _PHASES), name=op.f("ck_suppressed_events_signal_phase")
        ),
    )
    op.create_index(op.f("ix_suppressed_events_occurred_at"), "suppressed_events", ["occurred_at"])
    op.create_index(
        "ix_suppressed_events_camera_id_occurred_at",
        "suppressed_events",
        ["camera_id", "occurred_at"],
    )
    op.create_index(
        "ix_suppressed_events_safeguard_occurred_at",
        "suppressed_events",
        ["safeguard", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_suppressed_events_safeguard_occurred_at", "suppressed_events")
    op.drop_index("ix_suppressed_events_camera_id_occurred_at", "suppressed_events")
    op.drop_index(op.f("ix_suppressed_events_occurred_at"), "suppressed_events")
    op.drop_table("suppressed_events")
