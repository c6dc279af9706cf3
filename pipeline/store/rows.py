"""Inserting a row that other processes may insert at the same moment.

Workers start together and stages are redelivered events: the same camera, user or citation
can be inserted twice at once. The loser's insert fails on the unique key inside a savepoint,
and it takes the winner's row instead of failing its whole transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")


def insert_once(
    session: Session, find: Callable[[], T | None], make: Callable[[], T]
) -> tuple[T, bool]:
    """The row `find` returns, else the row `make` builds, inserted; True when this call did."""
    existing = find()
    if existing is not None:
        return existing, False
    row = make()
    # Opening the savepoint flushes the caller's pending rows, so only our insert fails inside.
    savepoint = session.begin_nested()
    try:
        with savepoint:
            session.add(row)
    except IntegrityError:
        winner = find()
        if winner is None:
            raise
        return winner, False
    return row, True
