"""Opening the store: engine set-up per backend, migrations, and the unit-of-work session.

The same stage code runs on an embedded SQLite file and on a shared PostgreSQL server, so the
backend differences (SQLite pragmas and locking, PostgreSQL migration locking) live here only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same in every process migrating one database.
_MIGRATION_LOCK_KEY = 0x73746F706C696E65  # "stopline"
_SQLITE_BUSY_TIMEOUT_S = 30.0


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration of the packaged migrations.

    `url` is only needed where Alembic connects by itself or renders SQL (`upgrade --sql`);
    `migrate` hands it an open connection instead.
    """
    config = Config(MIGRATIONS_DIR / "alembic.ini")
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def make_engine(url: str) -> Engine:
    """An engine configured for the stopline store on SQLite or PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    if backend != "sqlite":
        raise ValueError(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
        )
    if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
        raise ValueError("SQLite store needs a file path: an in-memory database is per connection")
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (it would defer it to the first write); see
    # `_sqlite_on_begin`. WAL lets readers run beside the writer; FKs are off unless asked.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Every transaction takes the write lock up front. A deferred one that read and then writes
    # fails with SQLITE_BUSY as soon as another writer committed in between, which the busy
    # timeout cannot retry; IMMEDIATE waits instead, and makes read-check-write atomic, which
    # the citation state machine and the audit chain rely on (SQLite has no row locks).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for migrations.

    On SQLite, foreign keys are not enforced while the transaction runs: a migration that
    must rebuild a table (SQLite alters little in place) drops the table other rows point
    at, and SQLite counts those references as broken even after the rebuilt table takes the
    name. The pragma only takes effect outside a transaction, so it is set on the raw
    connection before; afterwards `foreign_key_check` must find nothing broken.
    """
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection if engine.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
            if raw is not None:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _upgrade(engine: Engine) -> None:
    with migration_connection(engine) as connection:
        if engine.dialect.name == "postgresql":
            # Workers start together; without this they race to create alembic_version.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrate(url: str) -> None:
    """Upgrade the database at `url` to the newest schema; safe to call from many processes."""
    open_store(url).close()


class Store:
    """The database of one deployment; hand out one `session()` per unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Objects stay readable after commit: callers often return them past the session.
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends normally, rolled back on an exception."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """Connect to `url`, bring its schema to the newest migration, and return the store."""
    engine = make_engine(url)
    try:
        _upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)
