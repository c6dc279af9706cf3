"""The SQL store: SQLite file by default, PostgreSQL by URL, schema by Alembic migrations.

store = open_store("sqlite:///var/stopline.db")
with store.session() as session:
    citation = create_citation(session, violation_id)
"""

from pipeline.store import (  # noqa: F401  (their tables join the metadata)
    citizen,
    reviewing,
    suppressed,
)
from pipeline.store.audit import ChainReport, verify_chain
from pipeline.store.citations import (
    TRANSITIONS,
    IllegalTransition,
    Rule,
    create_citation,
    history,
    transition,
)
from pipeline.store.engine import Store, migrate, open_store
from pipeline.store.idempotency import AlreadyProcessed, SqlDeduper
from pipeline.store.models import Base, Role, Status

__all__ = [
    "TRANSITIONS",
    "AlreadyProcessed",
    "Base",
    "ChainReport",
    "IllegalTransition",
    "Role",
    "Rule",
    "SqlDeduper",
    "Status",
    "Store",
    "create_citation",
    "history",
    "migrate",
    "open_store",
    "transition",
    "verify_chain",
]
