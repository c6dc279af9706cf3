"""Files the portal adds to a case: the blurred key frames and clip the person fined watches,
and what they attach to an appeal; listed on the citation, so retention deletes them with the
case's evidence.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("citizen_files", sa.JSON(), nullable=True))
    _list_appeal_uploads()


def downgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("citizen_files")


def _list_appeal_uploads() -> None:
    """Uploads of appeals filed before the list existed (none in an offline `--sql` script,
    which is for new databases)."""
    if context.is_offline_mode():
        return
    appeals = sa.table(
        "appeals",
        sa.column("citation_id"),
        sa.column("upload_sha256"),
        sa.column("upload_media_type"),
    )
    citations = sa.table("citations", sa.column("id"), sa.column("citizen_files", sa.JSON()))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(appeals.c.citation_id, appeals.c.upload_sha256, appeals.c.upload_media_type)
        .where(appeals.c.upload_sha256.is_not(None))
        .order_by(appeals.c.citation_id)
    )
    files: dict[str, list[dict[str, str]]] = {}
    for citation_id, sha256, media_type in rows:
        entry = {"sha256": sha256, "role": "appeal:upload", "media_type": media_type}
        files.setdefault(citation_id, []).append(entry)
    for citation_id, entries in files.items():
        bind.execute(
            citations.update().where(citations.c.id == citation_id).values(citizen_files=entries)
        )
