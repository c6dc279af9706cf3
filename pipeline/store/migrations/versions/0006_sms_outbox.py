"""SMS outbox: one row per notice, the sender worker's to-do list and its record of tries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column(
            "citation_id", sa.String(64), sa.ForeignKey("citations.id"), nullable=False, index=True
        ),
        sa.Column("notice_type", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(32), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gateway", sa.String(32), nullable=True),
        sa.Column("gateway_message_id", sa.String(200), nullable=True, index=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'dead', 'unsendable')",
            name=op.f("ck_sms_outbox_status"),
        ),
    )
    op.create_index("ix_sms_outbox_due", "sms_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_outbox_due", "sms_outbox")
    op.drop_table("sms_outbox")
