"""Login throttling by client address and by name with back-off, instead of an account lock
that anyone could set off; admins disable accounts instead.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = "role IN ('reviewer', 'supervisor', 'auditor', 'admin')"


def _users(columns: list[sa.Column]) -> sa.Table:
    """`users` with the given extra columns, for SQLite's copy-and-move (works offline too)."""
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        *columns,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.CheckConstraint(ROLES, name="ck_users_role"),
    )


def _lock_columns() -> list[sa.Column]:
    """The columns the account lock used (new objects each time: a Column has one table)."""
    return [
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    ]


def _alter(before: list[sa.Column]):  # type: ignore[no-untyped-def]
    if op.get_context().dialect.name != "sqlite":
        return op.batch_alter_table("users")
    return op.batch_alter_table("users", copy_from=_users(before), recreate="always")


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wait_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "subject", name="pk_login_throttles"),
    )
    with _alter(_lock_columns()) as users:
        users.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        users.drop_column("failed_logins")
        users.drop_column("locked_until")


def downgrade() -> None:
    disabled = sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True)
    with _alter([disabled]) as users:
        for column in _lock_columns():
            users.add_column(column)
        users.drop_column("disabled_at")
    op.drop_table("login_throttles")
