"""One interface for every SMS carrier link: the outbox worker neither knows nor cares which.

A gateway either accepts a message (it will try to deliver it) or fails, and says whether the
failure is worth a retry. Every message carries an idempotency key; a gateway that can, hands
it to the carrier, so a retry after an unanswered request does not send a second SMS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sms:
    idempotency_key: str
    """Stable per citation and notice type: the same notice always has the same key."""
    to: str
    """E.164."""
    body: str


@dataclass(frozen=True)
class Accepted:
    gateway_message_id: str
    delivered: bool = False
    """True when acceptance is delivery (the file gateway); else a receipt follows."""


@dataclass(frozen=True)
class DeliveryReport:
    gateway_message_id: str
    delivered: bool
    detail: str


class TemporaryFailure(Exception):
    """Worth retrying later: the carrier is down, slow or throttling."""


class PermanentFailure(Exception):
    """Will never succeed as it is (the carrier refuses the number or the text)."""


class Gateway(ABC):
    name: str

    @abstractmethod
    def send(self, sms: Sms) -> Accepted:
        """Hand one message over; raises `TemporaryFailure` or `PermanentFailure`."""

    def receipts(self, awaiting: Sequence[str]) -> list[DeliveryReport]:
        """Delivery reports that are in: pushed ones that arrived since the last call, or for
        a gateway that must ask, those of `awaiting` (message ids the outbox still waits on,
        read from the store, so a restart forgets none). None for the file gateway."""
        return []
