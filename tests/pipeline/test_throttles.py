"""Wrong-secret counters on both backends: two first tries at once count as two, never fail."""

from __future__ import annotations

import threading
from datetime import timedelta

from pipeline.store import Store
from pipeline.store.models import LoginThrottle, utcnow
from pipeline.store.throttles import Limit, Throttle

LIMITS = [Limit("portal-address", "203.0.113.9", 20, 3600), Limit("notice", "12345678903", 5, 3600)]
WINDOW = timedelta(hours=1)


def test_two_first_tries_at_once_are_both_counted(store: Store) -> None:
    """The first try holds its new rows uncommitted while the second starts: the second waits
    for them (PostgreSQL: the insert blocks; SQLite: the write lock) and counts on top."""
    first_in = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            first_in.wait(10)
            with store.session() as session:
                Throttle(session, LIMITS, WINDOW, utcnow()).failed()
        except BaseException as error:  # reported below, from the test's thread
            errors.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    with store.session() as session:
        Throttle(session, LIMITS, WINDOW, utcnow()).failed()
        session.flush()
        first_in.set()
        thread.join(0.5)  # the second try is now waiting on this transaction's rows
    thread.join(30)
    assert not thread.is_alive() and errors == []
    with store.session() as session:
        rows = {row.kind: row.failures for row in session.query(LoginThrottle)}
    assert rows == {"portal-address": 2, "notice": 2}
