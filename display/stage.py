"""The display stage: approvals go up on their crossing's screens, dismissals come down.

It consumes `citations.approved` and `citations.dismissed` (one consumer group each) and
wakes the players of the screens it changed. Posting is idempotent by citation and screen, so
a redelivered approval changes nothing; a dismissal is applied however late it comes.
"""

from __future__ import annotations

from collections.abc import Callable

from display.billboards import Billboards
from pipeline.events import CitationApproved, CitationDismissed, Event


class DisplayStage:
    group = "display"
    recall_group = "display-recall"

    def __init__(self, billboards: Billboards, changed: Callable[[list[str]], None]) -> None:
        self.billboards = billboards
        self.changed = changed
        """Told the ids of the screens whose playlist changed."""

    def handle(self, event: Event) -> None:
        if isinstance(event, CitationApproved):
            screens = self.billboards.post(event.citation_id, event.created_at)
        elif isinstance(event, CitationDismissed):
            screens = self.billboards.take_down(event.citation_id, f"dismissed: {event.reason}")
        else:
            return
        if screens:
            self.changed(screens)
