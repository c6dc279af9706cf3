"""SMS straight to a carrier's SMSC over SMPP 3.4, bound as a transceiver.

One bind both submits and receives delivery receipts, so a receipt needs no second connection
and no public callback URL. The link is opened at the first call, not at start-up, so a
stopline whose SMSC is down still starts and the outbox simply waits; a link that breaks is
dropped and opened again at the next call.

SMPP has no idempotency key. When the sender dies between `submit_sm` and committing the
answer, or the SMSC accepts a message but its `submit_sm_resp` is lost, the row stays `sending`
and is sent again once its lease (`notifier.sender.LEASE_S`) ends: the recipient gets a second
copy. The lease keeps that to crashes and lost answers (a live sender never resends a row it
holds) and to one extra copy per lease; nothing below can make it zero, so no key is faked.

Receipts: the SMSC sends each part's receipt as a `deliver_sm` whose text follows SMPP 3.4
Appendix B ("id:... stat:DELIVRD ..."). A message split into parts is reported once, under the
message_id of its last part (the one `send` returns): delivered when every part's receipt says
so, failed at the first part that is not. That grouping lives in memory: after a restart, the
receipts of parts other than the last are unknown ids the sender ignores, and the last part's
receipt alone decides.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import smpplib.client
import smpplib.consts as smpp_consts
import smpplib.exceptions
import smpplib.smpp

from notifier.gateway import (
    Accepted,
    DeliveryReport,
    Gateway,
    PermanentFailure,
    Sms,
    TemporaryFailure,
)
from notifier.segments import PART, SINGLE, count_segments
from pipeline.config import NotifierConfig

log = logging.getLogger(__name__)

GSM_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""GSM 03.38 default alphabet in septet order (0x1B is the escape to the extension table)."""
GSM_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
"""Characters sent as ESC (0x1B) followed by this septet."""
DATA_CODING = {"GSM-7": 0x00, "UCS-2": 0x08}
ESM_UDHI = 0x40
"""esm_class bit: short_message starts with a user data header (here: concatenation)."""
ESM_RECEIPT_MASK, ESM_RECEIPT = 0x3C, 0x04
"""esm_class message-type bits of a deliver_sm that is an SMSC delivery receipt."""
REGISTERED_DELIVERY_FINAL = 0x01
"""Ask for a receipt on the final outcome, delivered or not."""

TEMPORARY_STATUSES = frozenset(
    {
        smpp_consts.SMPP_ESME_RINVBNDSTS,  # the SMSC lost our bind: bind again
        smpp_consts.SMPP_ESME_RSYSERR,
        smpp_consts.SMPP_ESME_RMSGQFUL,
        smpp_consts.SMPP_ESME_RSUBMITFAIL,
        smpp_consts.SMPP_ESME_RTHROTTLED,
        smpp_consts.SMPP_ESME_RX_T_APPN,
        smpp_consts.SMPP_ESME_RUNKNOWNERR,
    }
)
"""submit_sm statuses that may pass; any other refuses the message as it is."""
CREDENTIAL_STATUSES = frozenset({smpp_consts.SMPP_ESME_RINVPASWD, smpp_consts.SMPP_ESME_RINVSYSID})

FINAL_STATES = {
    "DELIVRD": True,
    "EXPIRED": False,
    "DELETED": False,
    "UNDELIV": False,
    "REJECTD": False,
    "UNKNOWN": False,
}
"""Appendix B `stat:` values that end a message; ENROUTE and ACCEPTD do not, so wait on."""
RECEIPT_TEXT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)", re.DOTALL)

RECONNECT_HOLDOFF_S = 30.0
"""`receipts()` runs every pass of the sender loop; it retries a failed link this seldom."""
ENQUIRE_LINK_S = 30.0
"""An idle link is probed this often, so an SMSC's idle timer does not close it under us."""


class SmppBindRefused(ValueError):
    """The SMSC refused our system_id or password.

    A ValueError, not a `TemporaryFailure`: retrying cannot fix a wrong secret, and a temporary
    failure would burn every queued notice through `max_attempts` to `dead` while the operator
    fixes it. Raised out of the sender's pass instead, it is logged every time and the claimed
    rows wait out their lease, to go out once the credentials are right.
    """


@dataclass
class _Parts:
    """A concatenated message whose receipts are still coming in."""

    report_id: str
    outstanding: set[str] = field(default_factory=set)


def encode(text: str) -> tuple[int, int, list[bytes]]:
    """(data_coding, esm_class, short_message of each part) for `text`.

    The alphabet and the split follow `notifier.segments`, so the parts sent are the segments
    the templates were checked (and the carrier bills) against: GSM-7 one septet per octet
    (unpacked; the SMSC packs them), else UCS-2 big-endian; an escape or surrogate pair is never
    split across parts. smpplib's own `gsm.make_parts` is not used: it may split an escape pair
    and its table sends "`" in place of "§".
    """
    encoding = count_segments(text).encoding
    if encoding == "GSM-7":
        units = [
            bytes([0x1B, GSM_EXTENSION[c]]) if c in GSM_EXTENSION else bytes([GSM_DEFAULT.index(c)])
            for c in text
        ]
        unit_len = 1
    else:
        units = [c.encode("utf-16-be") for c in text]
        unit_len = 2
    data_coding = DATA_CODING[encoding]
    if sum(len(u) for u in units) <= SINGLE[encoding] * unit_len:
        return data_coding, 0, [b"".join(units)]
    chunks: list[bytes] = [b""]
    for unit in units:
        if len(chunks[-1]) + len(unit) > PART[encoding] * unit_len:
            chunks.append(b"")
        chunks[-1] += unit
    if len(chunks) > 255:
        raise PermanentFailure(f"{len(chunks)} parts: more than a concatenated SMS can have")
    # A resend of the same text reuses the reference, so a phone holding parts of the first
    # copy completes it instead of showing two half messages.
    reference = hashlib.sha256(text.encode("utf-8")).digest()[0]
    return (
        data_coding,
        ESM_UDHI,
        [
            bytes([0x05, 0x00, 0x03, reference, len(chunks), n]) + chunk
            for n, chunk in enumerate(chunks, start=1)
        ],
    )


def _address(number: str) -> tuple[int, int, str]:
    """(TON, NPI, digits) of an E.164 number, a national or short code, or an alphanumeric id."""
    if number.startswith("+") and number[1:].isdigit():
        return smpp_consts.SMPP_TON_INTL, smpp_consts.SMPP_NPI_ISDN, number[1:]
    if number.isdigit():
        return smpp_consts.SMPP_TON_UNK, smpp_consts.SMPP_NPI_ISDN, number
    return smpp_consts.SMPP_TON_ALNUM, smpp_consts.SMPP_NPI_UNK, number


def _status(code: int) -> str:
    return f"0x{code:02X} {smpp_consts.DESCRIPTIONS.get(code, 'unknown status')}"


class SmppGateway(Gateway):
    """Not thread-safe: one sender drives one gateway, as `Sender` does."""

    name = "smpp"

    def __init__(self, config: NotifierConfig) -> None:
        url = urlsplit(config.url or "")
        if url.scheme != "smpp" or not url.hostname or not url.port:
            raise ValueError(f"notifier.url must be smpp://host:port for smpp, not {config.url!r}")
        password = os.environ.get(config.secret_env or "")
        if not config.account or not config.sender_id or password is None:
            raise ValueError(
                "notifier gateway 'smpp' needs account (the system_id), sender_id (the source "
                "address) and secret_env (a set environment variable holding the password)"
            )
        # smpplib silently truncates longer values, which the SMSC would then refuse.
        if len(config.account) > 15 or len(password) > 8:
            raise ValueError("SMPP 3.4 allows a system_id of 15 and a password of 8 characters")
        self.host, self.port = url.hostname, url.port
        self.system_id, self.password = config.account, password
        self.source = _address(config.sender_id)
        self.timeout_s = config.timeout_s
        self.max_segments = config.max_segments
        self._client: smpplib.client.Client | None = None
        self._retry_at = 0.0
        self._last_io = 0.0
        self._answers: dict[int, Any] = {}
        """sequence_number -> the submit_sm_resp or generic_nack answering it."""
        self._arrived: list[DeliveryReport] = []
        """Receipts read off the link, per part, not yet handed out."""
        self._parts: dict[str, _Parts] = {}

    def send(self, sms: Sms) -> Accepted:
        data_coding, esm_class, parts = encode(sms.body)
        if len(parts) > self.max_segments:
            raise PermanentFailure(
                f"{len(parts)} SMS parts, more than notifier.max_segments ({self.max_segments})"
            )
        destination = _address(sms.to)
        if destination[0] != smpp_consts.SMPP_TON_INTL:
            raise PermanentFailure(f"not an E.164 number: {sms.to!r}")
        client = self._link()
        message_ids = [
            self._submit(client, destination, data_coding, esm_class, part) for part in parts
        ]
        if len(message_ids) > 1:
            group = _Parts(message_ids[-1], set(message_ids))
            self._parts.update(dict.fromkeys(message_ids, group))
        return Accepted(gateway_message_id=message_ids[-1])

    def receipts(self, awaiting: Sequence[str]) -> list[DeliveryReport]:
        """Reads whatever the SMSC has sent, without waiting; binds first if needed."""
        if self._client is not None or time.monotonic() >= self._retry_at:
            try:
                client = self._link()
                client.poll(auto_send_enquire_link=False)
                if time.monotonic() - self._last_io > ENQUIRE_LINK_S:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    self._last_io = time.monotonic()
            except TemporaryFailure as exc:
                log.warning("smpp receipts: %s", exc)
            except (smpplib.exceptions.ConnectionError, OSError) as exc:
                log.warning("smpp link to %s:%s lost: %r", self.host, self.port, exc)
                self._drop()
        reports, self._arrived = self._whole_messages(self._arrived), []
        return reports

    def close(self) -> None:
        """Unbinds politely, so the SMSC does not hold receipts for a link that is gone."""
        if self._client is None:
            return
        closing_anyway = (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError)
        with contextlib.suppress(*closing_anyway):
            self._client.unbind()
        self._drop()

    # ------------------------------------------------------------------ the link

    def _link(self) -> smpplib.client.Client:
        if self._client is not None:
            return self._client
        client = smpplib.client.Client(
            self.host, self.port, timeout=self.timeout_s, allow_unknown_opt_params=True
        )
        client.set_message_received_handler(self._on_deliver_sm)
        client.set_message_sent_handler(self._on_answer)
        client.set_error_pdu_handler(self._on_error_pdu)
        try:
            client.connect()
            client.bind_transceiver(system_id=self.system_id, password=self.password)
        except smpplib.exceptions.PDUError as exc:
            client.disconnect()
            self._retry_at = time.monotonic() + RECONNECT_HOLDOFF_S
            code = exc.args[1] if len(exc.args) > 1 else smpp_consts.SMPP_ESME_RUNKNOWNERR
            where = f"SMSC {self.host}:{self.port} refused bind as {self.system_id!r}"
            if code in CREDENTIAL_STATUSES:
                raise SmppBindRefused(
                    f"{where}: {_status(code)}; check notifier.account and secret_env"
                ) from exc
            raise TemporaryFailure(f"{where}: {_status(code)}") from exc
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            client.disconnect()
            self._retry_at = time.monotonic() + RECONNECT_HOLDOFF_S
            raise TemporaryFailure(f"cannot bind to SMSC {self.host}:{self.port}: {exc!r}") from exc
        log.info("smpp bound to %s:%s as %s", self.host, self.port, self.system_id)
        self._client, self._last_io = client, time.monotonic()
        return client

    def _drop(self) -> None:
        """Forget a link whose byte stream can no longer be trusted (a PDU may be half read)."""
        if self._client is not None:
            self._client.disconnect()
        self._client = None
        self._answers.clear()

    def _submit(
        self,
        client: smpplib.client.Client,
        destination: tuple[int, int, str],
        data_coding: int,
        esm_class: int,
        short_message: bytes,
    ) -> str:
        pdu = smpplib.smpp.make_pdu(
            "submit_sm",
            client=client,
            source_addr_ton=self.source[0],
            source_addr_npi=self.source[1],
            source_addr=self.source[2],
            dest_addr_ton=destination[0],
            dest_addr_npi=destination[1],
            destination_addr=destination[2],
            esm_class=esm_class,
            registered_delivery=REGISTERED_DELIVERY_FINAL,
            data_coding=data_coding,
            short_message=short_message,
        )
        deadline = time.monotonic() + self.timeout_s
        try:
            client.send_pdu(pdu)
            while pdu.sequence not in self._answers:
                if time.monotonic() > deadline:
                    raise TimeoutError("no submit_sm_resp")
                client.read_once(auto_send_enquire_link=False)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as exc:
            self._drop()
            raise TemporaryFailure(
                f"smpp link to {self.host}:{self.port} failed during submit_sm ({exc!r}); "
                "the SMSC may have taken the message, so a retry can duplicate it"
            ) from exc
        self._last_io = time.monotonic()
        answer = self._answers.pop(pdu.sequence)
        if answer.status == smpp_consts.SMPP_ESME_ROK:
            return answer.message_id.decode("ascii", "replace")
        problem = f"SMSC refused the message to +{destination[2]}: {_status(answer.status)}"
        if answer.status in TEMPORARY_STATUSES:
            if answer.status == smpp_consts.SMPP_ESME_RINVBNDSTS:
                self._drop()
            raise TemporaryFailure(problem)
        raise PermanentFailure(problem)

    # ------------------------------------------------------- smpplib's callbacks

    def _on_answer(self, pdu: Any, **_: Any) -> None:
        self._answers[pdu.sequence] = pdu

    def _on_error_pdu(self, pdu: Any) -> None:
        """A refusal is an answer like any other; smpplib's default would raise instead."""
        if pdu.command == "generic_nack":
            self._answers[pdu.sequence] = pdu

    def _on_deliver_sm(self, pdu: Any, **_: Any) -> int:
        """Keeps a receipt for `receipts()`; smpplib then answers ESME_ROK.

        Anything else (a reply from the phone) is acknowledged and dropped: notices are not a
        conversation.
        """
        self._last_io = time.monotonic()
        if (pdu.esm_class or 0) & ESM_RECEIPT_MASK != ESM_RECEIPT:
            return smpp_consts.SMPP_ESME_ROK
        text = pdu.short_message or b""
        match = RECEIPT_TEXT.search(text)
        if match is None or match["stat"].decode() not in FINAL_STATES:
            return smpp_consts.SMPP_ESME_ROK
        # The TLV is the standard home of the id; the text's copy is vendor-formatted.
        message_id = getattr(pdu, "receipted_message_id", None) or match["id"]
        self._arrived.append(
            DeliveryReport(
                gateway_message_id=message_id.decode("ascii", "replace"),
                delivered=FINAL_STATES[match["stat"].decode()],
                detail=text.decode("ascii", "replace"),
            )
        )
        return smpp_consts.SMPP_ESME_ROK

    def _whole_messages(self, reports: list[DeliveryReport]) -> list[DeliveryReport]:
        """Part receipts folded into one report per message, under the id `send` returned."""
        whole = []
        for report in reports:
            group = self._parts.get(report.gateway_message_id)
            if group is None:  # a single-part message, or sent before a restart
                whole.append(report)
                continue
            group.outstanding.discard(report.gateway_message_id)
            if report.delivered and group.outstanding:
                continue
            for part_id in [k for k, v in self._parts.items() if v is group]:
                del self._parts[part_id]
            whole.append(DeliveryReport(group.report_id, report.delivered, report.detail))
        return whole
