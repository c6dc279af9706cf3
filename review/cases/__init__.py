"""Citations as the console and the API see them, and everything a person decides about one.

The HTML pages, the JSON API and the auto-review policy call the same functions, so a filter,
a case's contents or a decision mean the same thing everywhere. Every status change goes
through the store's state machine (`pipeline.store.transition`), which checks the actor's
role; every view of personal data, correction and lookup writes an audit row, and every
decision its announcement (`pipeline.outbox`), in the same transaction. `queue` lists and
filters cases, `case` is one case as a reviewer sees it, `decisions` what a person decides.
"""

from review.cases.case import PRELOADED_ROLES, CaseView, load_case, preload_refs
from review.cases.decisions import (
    REJECT_LABELS,
    DecisionError,
    RejectReason,
    approve,
    confirm_second_review,
    correct_person,
    correct_plate,
    decide_appeal,
    record_appeal,
    reject,
    reopen,
    second_review_query,
)
from review.cases.queue import QueueFilter, next_in_queue, queue, queue_counts

__all__ = [
    "PRELOADED_ROLES",
    "REJECT_LABELS",
    "CaseView",
    "DecisionError",
    "QueueFilter",
    "RejectReason",
    "approve",
    "confirm_second_review",
    "correct_person",
    "correct_plate",
    "decide_appeal",
    "load_case",
    "next_in_queue",
    "preload_refs",
    "queue",
    "queue_counts",
    "record_appeal",
    "reject",
    "reopen",
    "second_review_query",
]
