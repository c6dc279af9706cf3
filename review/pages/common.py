"""What the console's pages share: roles, dependencies, post/redirect/get, the queue filter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pipeline.store import IllegalTransition
from pipeline.store.models import Citation, Role, SmsStatus
from review import cases
from review.auth import Viewer
from review.cases import DecisionError, QueueFilter
from review.web import DECIDERS, Console, checked, console, require

T = TypeVar("T")
SUPERVISOR = (Role.SUPERVISOR,)
AUDIT_READERS = (Role.AUDITOR, Role.SUPERVISOR)
NEEDS_A_PERSON = (SmsStatus.UNSENDABLE, SmsStatus.DEAD, SmsStatus.FAILED)
Cons = Annotated[Console, Depends(console)]
MAX_PAGE = 1_000_000
"""Far past the last page of any real list; an unbounded page number overflowed the database's
64-bit OFFSET (`?page=99999999999999999999`) and answered 500."""
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Decider = Annotated[Viewer, Depends(require(*DECIDERS))]
DeciderPost = Annotated[Viewer, Depends(checked(*DECIDERS))]
SupervisorPost = Annotated[Viewer, Depends(checked(*SUPERVISOR))]


def _back(path: str, message: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/redirect/get, with a one-line outcome for the next page to show."""
    outcome = {"done": message} if message else {"error": error} if error else {}
    if outcome:
        path += ("&" if "?" in path else "?") + urlencode(outcome)
    return RedirectResponse(path, status_code=303)


def queue_filter(
    camera: str | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    search: Annotated[str | None, Query(max_length=64)] = None,
    every_camera: bool = False,
) -> QueueFilter:
    return QueueFilter(
        camera=camera or None,
        kind=kind or None,
        date_from=date_from,
        date_to=date_to,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        search=search.strip() or None if search else None,
        every_camera=every_camera,
    )


class Refused(str):
    """Why a decision or correction did not happen, for the page the user goes back to."""


def _attempt(cons: Console, work: Callable[[Session], T]) -> T | Refused:
    """Run one decision in its own transaction; a refusal comes back as a message to show."""
    try:
        with cons.session() as session:
            return work(session)
    except LookupError:
        return Refused("no such citation")
    except (DecisionError, IllegalTransition) as exc:
        return Refused(str(exc))


def _outcome(path: str, outcome: object, message: str) -> RedirectResponse:
    if isinstance(outcome, Refused):
        return _back(path, error=outcome)
    return _back(path, message=message)


def _case_url(citation_id: str, query: str = "") -> str:
    return f"/cases/{citation_id}" + (f"?{query}" if query else "")


def _after_decision(cons: Console, citation_id: str, f: QueueFilter, reviewer: str) -> str:
    """Where a reviewer goes after deciding: the next pending case nobody else holds, or the
    queue."""
    with cons.session() as session:
        citation = session.get(Citation, citation_id)
        following = cases.next_in_queue(session, citation, f, reviewer) if citation else None
    query = f.query_string()
    if following is None:
        return "/queue" + (f"?{query}" if query else "")
    return _case_url(following, query)


def _decided(
    cons: Console, citation_id: str, f: QueueFilter, outcome: object, verb: str, reviewer: str
) -> RedirectResponse:
    """After a decision, on to the next case; after a refusal, back to this one."""
    if isinstance(outcome, Refused):
        return _back(_case_url(citation_id), error=outcome)
    next_url = _after_decision(cons, citation_id, f, reviewer)
    return _back(next_url, message=f"{verb} {citation_id[:8]}")
