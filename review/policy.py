"""Automatic review: off unless the deployment's config turns it on, and audited when it acts.

A real deployment has people decide in the console. This policy exists for two explicit cases:
`review.auto_approve` (a deployment's legal choice) and `review.demo_reviewer` (the demo, so the
chain runs to the end). Either way the decision is made as a named reviewer user, so the state
machine's role check and the audit log see exactly who decided, and that it was automatic.
"""

from __future__ import annotations

from pipeline.config import ReviewConfig
from pipeline.events import Event, ViolationIdentified
from pipeline.store import Role, Status, Store
from pipeline.store.audit import append as audit
from pipeline.store.models import Citation
from pipeline.store.registry import AUTO_APPROVER, ensure_user
from review.cases import approve

# Never matches a password hash, so this user can act but can never log in.
NO_LOGIN = "!disabled"


class AutoReviewer:
    group = "review-policy"

    def __init__(self, store: Store, config: ReviewConfig) -> None:
        self.store = store
        self.config = config
        self.actor = config.demo_reviewer or (AUTO_APPROVER if config.auto_approve else None)

    @property
    def active(self) -> bool:
        return self.actor is not None

    def ensure_user(self) -> None:
        """Create the policy's reviewer user once, and audit that it exists."""
        if self.actor is None:
            return
        with self.store.session() as session:
            _, created = ensure_user(session, self.actor, NO_LOGIN, Role.REVIEWER)
            if created:
                mode = "demo_reviewer" if self.config.demo_reviewer else "auto_approve"
                audit(
                    session,
                    "system:review-policy",
                    "user.created",
                    "user",
                    self.actor,
                    {"mode": mode},
                )

    def handle(self, event: Event) -> None:
        if self.actor is None or not isinstance(event, ViolationIdentified):
            return
        with self.store.session() as session:
            citation = session.get(Citation, event.citation_id)
            if citation is None:
                raise LookupError(f"no citation {event.citation_id}")
            if citation.status != Status.PENDING_REVIEW:
                return  # decided already (by a person, or by this policy on a redelivery)
            reason = (
                "automatic approval by the demo reviewer"
                if self.config.demo_reviewer
                else "auto-approve policy"
            )
            approve(session, citation.id, self.actor, reason, auto=True)
