"""Loopback services for tests and benchmarks: a Kafka-protocol broker and PostgreSQL.

A noida-db broker and a throwaway cluster from the Debian `postgresql` binaries, or existing
servers named by `KAFKA_BOOTSTRAP_SERVERS` / `STOPLINE_TEST_POSTGRES_URL`. The pytest fixtures
(tests/fixtures) and the benchmarks both use these context managers, so there is one recipe.

Each service lives exactly as long as its `with` block. Child processes get their own session,
so a Ctrl-C in the terminal reaches only this process, which then stops them in order.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "STOPLINE_TEST_POSTGRES_URL"

_START_TIMEOUT_S = 60.0
_CONNECT_TIMEOUT_S = 30.0
_PG_SERVER_USER = "postgres"
# The tests' settings: durability is pointless for a throwaway cluster.
_PG_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
_PG_DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


class ServiceError(RuntimeError):
    """A service could not be started or reached; the message says what to install or set."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], what: str, timeout_s: float = _START_TIMEOUT_S) -> None:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        start_new_session=True,
    )
    if result.returncode != 0:
        raise ServiceError(
            f"{what} failed (exit {result.returncode})\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )


def _log_tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return f"(no {log.name})"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def _shielded() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while a service shuts down.

    A second Ctrl-C in the middle of `pg_ctl stop` would otherwise leave a server running
    whose data folder is about to be deleted.
    """
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- Kafka -----------------------------------------------------------------------------------


def _noida_db() -> str:
    """The venv's bin dir is not on PATH when the benchmark is run as .venv/bin/python."""
    found = shutil.which("noida-db") or str(Path(sys.executable).with_name("noida-db"))
    if not Path(found).exists():
        raise ServiceError(
            "noida-db not found: run the project's test script (scripts/test.sh), which installs"
            f" the test extra, or set {KAFKA_ENV}"
        )
    return found


def _wait_for_broker(bootstrap: str) -> None:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + _CONNECT_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        except KafkaError as exc:
            last_error = exc
            time.sleep(0.2)
            continue
        try:
            admin.list_topics()
            return
        except KafkaError as exc:
            last_error = exc
            time.sleep(0.2)
        finally:
            admin.close()
    raise ServiceError(
        f"Kafka broker at {bootstrap} not reachable within {_CONNECT_TIMEOUT_S:.0f} s: "
        f"{last_error!r}"
    )


_STARTED_BROKERS: dict[str, Path] = {}
"""Bootstrap servers -> data folder of each noida-db broker this process started."""


def restart_broker(bootstrap: str) -> None:
    """Stop the broker and start it again on its data (a fault test's broker restart)."""
    data_dir = _STARTED_BROKERS.get(bootstrap)
    if data_dir is None:
        raise ServiceError(f"{bootstrap} was not started by this run: it cannot be restarted")
    _run([_noida_db(), "restart", "kafka", "--data-dir", str(data_dir)], "noida-db restart")
    _wait_for_broker(bootstrap)


@contextmanager
def kafka_broker() -> Iterator[str]:
    """Bootstrap servers of a reachable broker: `KAFKA_BOOTSTRAP_SERVERS`, or a noida-db one."""
    if external := os.environ.get(KAFKA_ENV):
        _wait_for_broker(external)
        yield external
        return
    noida = _noida_db()
    data_dir = Path(tempfile.mkdtemp(prefix="stopline-kafka-"))
    port = _free_port()
    try:
        # Bound to loopback only: nothing here reaches beyond this machine.
        try:
            _run(
                [
                    *(noida, "up", "--only", "kafka", "--data-dir", str(data_dir)),
                    *("--kafka-port", str(port), "--host", "127.0.0.1"),
                ],
                what=f"noida-db up (Kafka on port {port})",
            )
        except ServiceError as exc:
            raise ServiceError(f"{exc}\nlog:\n{_log_tail(data_dir / 'noida.log')}") from None
        bootstrap = f"127.0.0.1:{port}"
        _wait_for_broker(bootstrap)
        _STARTED_BROKERS[bootstrap] = data_dir
        yield bootstrap
    finally:
        _STARTED_BROKERS.pop(f"127.0.0.1:{port}", None)
        # `down` is harmless when `up` never got as far as starting the server.
        with _shielded():
            subprocess.run(
                [noida, "down", "--data-dir", str(data_dir)],
                capture_output=True,
                timeout=_START_TIMEOUT_S,
                check=False,
                start_new_session=True,
            )
            shutil.rmtree(data_dir, ignore_errors=True)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_binaries() -> Path:
    """The bin folder of the newest PostgreSQL installed from Debian packages."""
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if not candidates:
        raise ServiceError(
            "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): run the "
            "project's test script (scripts/test.sh), which installs the Debian package "
            f"`postgresql`, or set {POSTGRES_ENV}"
        )
    return max(candidates, key=lambda bin_dir: int(bin_dir.parent.name))


class _Cluster:
    """A PostgreSQL cluster in a temporary folder; as root it runs as the `postgres` user,
    because initdb refuses to run as root."""

    def __init__(self, bin_dir: Path, *, durable: bool) -> None:
        self._bin = bin_dir
        self._durable = durable
        self._as_server_user: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="stopline-pg-"))
        if os.geteuid() == 0:
            try:
                shutil.chown(self.root, user=_PG_SERVER_USER)
            except LookupError:
                shutil.rmtree(self.root)
                raise ServiceError(
                    f"no system user {_PG_SERVER_USER!r} to run PostgreSQL as"
                ) from None
            self._as_server_user = ["runuser", "-u", _PG_SERVER_USER, "--"]
        self.data = self.root / "data"
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _tool(self, tool: str, *args: str) -> None:
        command = [*self._as_server_user, str(self._bin / tool), *args]
        try:
            _run(command, what=tool)
        except ServiceError as exc:
            server_log = _log_tail(self.root / "server.log")
            raise ServiceError(f"{exc}\nserver log:\n{server_log}") from None

    def start(self) -> None:
        self._tool(
            "initdb",
            *("-D", str(self.data), "-U", "postgres", "--auth=trust"),
            *("--encoding=UTF8", "--no-locale", "--no-sync"),
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.root} "
        ) + (_PG_DURABLE if self._durable else _PG_FAST)
        self._tool(
            "pg_ctl",
            *("start", "-D", str(self.data), "-l", str(self.root / "server.log")),
            *("-w", "-t", str(int(_START_TIMEOUT_S)), "-o", options),
        )

    def restart(self) -> None:
        """A fast shutdown (sessions cut, as in a crash or failover) and a start."""
        log = str(self.root / "server.log")  # else the server writes to our captured pipe
        self._tool("pg_ctl", "restart", "-D", str(self.data), "-l", log, "-m", "fast", "-w")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._tool("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new empty database on `server_url`, dropped afterwards, so reruns never collide."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with _shielded(), admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[str]:
    """URL of a PostgreSQL server where the role may create databases: `STOPLINE_TEST_POSTGRES_URL`
    or a throwaway cluster.

    `durable` turns fsync and synchronous commit back on in the throwaway cluster (off by
    default: durability is pointless there); an external server keeps its own settings.
    """
    if given := os.environ.get(POSTGRES_ENV):
        yield given
        return
    cluster = _Cluster(_pg_binaries(), durable=durable)
    try:
        cluster.start()
        _STARTED_CLUSTERS[cluster.port] = cluster
        yield cluster.url
    finally:
        _STARTED_CLUSTERS.pop(cluster.port, None)
        with _shielded():
            cluster.stop()


_STARTED_CLUSTERS: dict[int, _Cluster] = {}


def restart_postgres(database_url: str) -> None:
    """Restart the server of `database_url` (a fault test's PostgreSQL restart)."""
    cluster = _STARTED_CLUSTERS.get(make_url(database_url).port or 0)
    if cluster is None:
        raise ServiceError(f"{database_url} is not on a server this run started")
    cluster.restart()


@contextmanager
def postgres_database(*, durable: bool = False) -> Iterator[str]:
    """URL of an empty database on a `postgres_server`, dropped afterwards."""
    with postgres_server(durable=durable) as server, scratch_database(server) as url:
        yield url
