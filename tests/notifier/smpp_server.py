"""A small SMPP 3.4 SMSC on loopback, for the smpp gateway's tests.

Written from the specification with sockets and struct, sharing no code with the client
library, so a test passes only when the bytes on the wire are what a real SMSC reads: each
submit_sm is decoded field by field, its text from GSM-7 or UCS-2, and concatenated parts are
put back together by their user data header. Every accepted message is answered with a
`deliver_sm` delivery receipt in the SMPP 3.4 Appendix B format.

Fault knobs: destinations refused with ESME_RINVDSTADR, destinations whose receipt says
UNDELIV, and a connection dropped (without an answer) at the next submit_sm after N messages.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000

ESME_ROK = 0x00
ESME_RINVBNDSTS = 0x04
ESME_RINVDSTADR = 0x0B
ESME_RINVPASWD = 0x0E
ESME_RINVCMDID = 0x03

TLV_RECEIPTED_MESSAGE_ID = 0x001E

GSM_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}


@dataclass(frozen=True)
class Submitted:
    """One submit_sm as the SMSC read it."""

    message_id: str
    source_ton: int
    source_npi: int
    source: str
    dest_ton: int
    dest_npi: int
    destination: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    text: str
    """This part's text, the user data header removed."""
    concat: tuple[int, int, int] | None
    """(reference, total parts, part number) from the header, for a concatenated part."""


def decode_gsm7(data: bytes) -> str:
    """Unpacked GSM 03.38 (one septet per octet), as SMPP carries data_coding 0."""
    out, escaped = [], False
    for octet in data:
        if escaped:
            out.append(GSM_EXTENSION[octet])
            escaped = False
        elif octet == 0x1B:
            escaped = True
        else:
            out.append(GSM_DEFAULT[octet])
    return "".join(out)


class Reader:
    """Walks a PDU body in field order."""

    def __init__(self, body: bytes) -> None:
        self.body, self.at = body, 0

    def cstring(self) -> str:
        end = self.body.index(b"\x00", self.at)
        value = self.body[self.at : end].decode("ascii")
        self.at = end + 1
        return value

    def int8(self) -> int:
        self.at += 1
        return self.body[self.at - 1]

    def octets(self, n: int) -> bytes:
        self.at += n
        return self.body[self.at - n : self.at]


def cstring(value: str) -> bytes:
    return value.encode("ascii") + b"\x00"


class SmppServer:
    def __init__(
        self,
        system_id: str = "stopline",
        password: str = "s3cret",
        bad_destinations: frozenset[str] = frozenset(),
        undeliverable: frozenset[str] = frozenset(),
    ) -> None:
        self.system_id, self.password = system_id, password
        self.bad_destinations, self.undeliverable = bad_destinations, undeliverable
        self.drop_after: int | None = None
        """Close the connection, unanswered, at the submit_sm after this many messages."""
        self.messages: list[Submitted] = []
        self.refused_binds: list[str] = []
        self.receipt_answers: list[tuple[int, int]] = []
        """(sequence, status) of each deliver_sm_resp."""
        self.binds = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sequence = 0
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smpp://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stops listening at once: shutdown wakes the accept() a bare close leaves blocked."""
        with contextlib.suppress(OSError):  # closed before
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for connection in self._connections:
            connection.close()

    def texts(self) -> list[str]:
        """Each message's whole text, concatenated parts joined in part order."""
        with self._lock:
            messages = list(self.messages)
        whole: list[str] = []
        groups: dict[tuple[str, int], dict[int, str]] = {}
        for message in messages:
            if message.concat is None:
                whole.append(message.text)
                continue
            reference, total, number = message.concat
            parts = groups.setdefault((message.destination, reference), {})
            parts[number] = message.text
            if len(parts) == total:
                whole.append("".join(parts[n] for n in range(1, total + 1)))
        return whole

    # ------------------------------------------------------------------ wire

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        bound = False
        with connection:
            try:
                while True:
                    header = self._read(connection, 16)
                    if header is None:
                        return
                    length, command, status, sequence = struct.unpack(">IIII", header)
                    body = self._read(connection, length - 16) if length > 16 else b""
                    if body is None:
                        return
                    if command == BIND_TRANSCEIVER:
                        bound = self._bind(connection, sequence, Reader(body))
                        if not bound:
                            return
                    elif command == SUBMIT_SM:
                        if not bound:
                            self._send(connection, SUBMIT_SM_RESP, ESME_RINVBNDSTS, sequence)
                        elif not self._submit(connection, sequence, Reader(body)):
                            return
                    elif command == DELIVER_SM_RESP:
                        with self._lock:
                            self.receipt_answers.append((sequence, status))
                    elif command == ENQUIRE_LINK:
                        self._send(connection, ENQUIRE_LINK_RESP, ESME_ROK, sequence)
                    elif command == UNBIND:
                        self._send(connection, UNBIND_RESP, ESME_ROK, sequence)
                        return
                    elif not command & 0x80000000:
                        self._send(connection, GENERIC_NACK, ESME_RINVCMDID, sequence)
            except OSError:
                return

    @staticmethod
    def _read(connection: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _send(
        self, connection: socket.socket, command: int, status: int, sequence: int, body: bytes = b""
    ) -> None:
        connection.sendall(struct.pack(">IIII", 16 + len(body), command, status, sequence) + body)

    def _bind(self, connection: socket.socket, sequence: int, pdu: Reader) -> bool:
        system_id, password = pdu.cstring(), pdu.cstring()
        pdu.cstring()  # system_type
        if (system_id, password) != (self.system_id, self.password):
            with self._lock:
                self.refused_binds.append(system_id)
            self._send(connection, BIND_TRANSCEIVER_RESP, ESME_RINVPASWD, sequence)
            return False
        with self._lock:
            self.binds += 1
        self._send(connection, BIND_TRANSCEIVER_RESP, ESME_ROK, sequence, cstring("test-smsc"))
        return True

    def _submit(self, connection: socket.socket, sequence: int, pdu: Reader) -> bool:
        """Answers one submit_sm and sends its receipt; False when the connection is to drop."""
        service_type = pdu.cstring()
        source_ton, source_npi, source = pdu.int8(), pdu.int8(), pdu.cstring()
        dest_ton, dest_npi, destination = pdu.int8(), pdu.int8(), pdu.cstring()
        esm_class, protocol_id, priority = pdu.int8(), pdu.int8(), pdu.int8()
        schedule, validity = pdu.cstring(), pdu.cstring()
        registered_delivery, replace_if_present = pdu.int8(), pdu.int8()
        data_coding, default_msg_id, sm_length = pdu.int8(), pdu.int8(), pdu.int8()
        short_message = pdu.octets(sm_length)
        assert (service_type, protocol_id, priority, schedule, validity) == ("", 0, 0, "", "")
        assert (replace_if_present, default_msg_id) == (0, 0)
        with self._lock:
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                self.drop_after = None
                return False
        if destination in self.bad_destinations:
            self._send(connection, SUBMIT_SM_RESP, ESME_RINVDSTADR, sequence)
            return True
        concat = None
        if esm_class & 0x40:
            header_length = short_message[0]
            header, short_message = (
                short_message[1 : 1 + header_length],
                short_message[1 + header_length :],
            )
            assert header[:2] == b"\x00\x03", "an 8-bit concatenation element"
            concat = (header[2], header[3], header[4])
        if data_coding == 0x00:
            text = decode_gsm7(short_message)
        elif data_coding == 0x08:
            text = short_message.decode("utf-16-be")
        else:
            raise AssertionError(f"unexpected data_coding {data_coding}")
        with self._lock:
            message_id = f"{len(self.messages) + 1:08x}"
            self.messages.append(
                Submitted(
                    message_id,
                    source_ton,
                    source_npi,
                    source,
                    dest_ton,
                    dest_npi,
                    destination,
                    esm_class,
                    registered_delivery,
                    data_coding,
                    text,
                    concat,
                )
            )
        self._send(connection, SUBMIT_SM_RESP, ESME_ROK, sequence, cstring(message_id))
        if registered_delivery & 0x03:
            self._receipt(connection, message_id, source_ton, source_npi, source, destination, text)
        return True

    def _receipt(
        self,
        connection: socket.socket,
        message_id: str,
        source_ton: int,
        source_npi: int,
        source: str,
        destination: str,
        text: str,
    ) -> None:
        stat = "UNDELIV" if destination in self.undeliverable else "DELIVRD"
        err = "001" if stat == "UNDELIV" else "000"
        now = datetime.now(UTC).strftime("%y%m%d%H%M")
        excerpt = text[:20].encode("ascii", "replace").decode()
        receipt = (
            f"id:{message_id} sub:001 dlvr:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:{now} done date:{now} stat:{stat} err:{err} text:{excerpt}"
        ).encode("ascii")
        receipted_id = cstring(message_id)
        body = (
            cstring("")  # service_type
            + bytes([1, 1])  # the phone is the source: international, ISDN
            + cstring(destination)
            + bytes([source_ton, source_npi])
            + cstring(source)
            + bytes([0x04, 0, 0])  # esm_class: SMSC delivery receipt; protocol_id; priority
            + cstring("")  # schedule_delivery_time
            + cstring("")  # validity_period
            + bytes([0, 0, 0, 0, len(receipt)])  # registered_delivery .. sm_length
            + receipt
            + struct.pack(">HH", TLV_RECEIPTED_MESSAGE_ID, len(receipted_id))
            + receipted_id
        )
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        self._send(connection, DELIVER_SM, ESME_ROK, sequence, body)
