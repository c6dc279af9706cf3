"""A real HTTP server on loopback speaking the subset of Twilio's Messages API the gateway uses.

It keeps what a carrier would: the messages it accepted (what phones receive) apart from the
requests that reached it, so a test can tell "asked twice" from "sent twice". Like Twilio, a
repeated `I-Twilio-Idempotency-Token` answers with the message it already made. Fault knobs
make the first POSTs fail with 500, or accept them and answer after the client gave up, which
is the case idempotency exists for. `/webhook` is a tiny JSON endpoint for the webhook flavour.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MESSAGES = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$"
)
WEBHOOK = "/webhook"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    idempotency_key: str | None


class TwilioServer:
    """Start with `with TwilioServer() as server:`; point the gateway at `server.url`."""

    def __init__(
        self,
        account: str = "AC" + "0" * 32,
        token: str = "test-auth-token",
        undeliverable: frozenset[str] = frozenset(),
        invalid: frozenset[str] = frozenset(),
        hold_receipts: bool = False,
    ) -> None:
        self.account = account
        self.token = token
        self.undeliverable = undeliverable
        """Numbers accepted but never reached: their messages end `undelivered`."""
        self.invalid = invalid
        """Numbers refused like Twilio refuses a bad one: 400, code 21211."""
        self.hold_receipts = hold_receipts
        """While True, messages read `sent`; a test clears it for their final status."""
        self.fail_posts = 0
        """The next this many POSTs answer 500 without making a message."""
        self.slow_posts = 0
        """The next this many POSTs make their message, then answer after `slow_s`."""
        self.slow_s = 1.5
        self.requests: list[Request] = []
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self._listen(0)

    def _listen(self, port: int) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> TwilioServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.down()

    def down(self) -> None:
        """The carrier's API is unreachable (connections refused) until `up`."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def up(self) -> None:
        """Back on the same address, with every message it had accepted before."""
        self._listen(self.httpd.server_address[1])
        self.thread.start()

    def delivered(self) -> list[Message]:
        """What phones received: every accepted message but those to unreachable numbers."""
        with self.lock:
            return [m for m in self.messages if m.to not in self.undeliverable]

    def posts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def status_of(self, message: Message) -> str:
        if self.hold_receipts:
            return "sent"
        return "undelivered" if message.to in self.undeliverable else "delivered"

    def resource(self, message: Message, status: str) -> dict[str, object]:
        undelivered = status == "undelivered"
        return {
            "sid": message.sid,
            "account_sid": self.account,
            "to": message.to,
            "from": message.from_,
            "body": message.body,
            "status": status,
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(datetime.now(UTC), usegmt=True),
            "error_code": 30003 if undelivered else None,
            "error_message": "Unreachable destination handset" if undelivered else None,
            "uri": f"/2010-04-01/Accounts/{self.account}/Messages/{message.sid}.json",
        }

    def create(self, form: dict[str, str], key: str | None) -> tuple[int, dict[str, object]]:
        """Twilio's POST: refuse, or make the message, or find the one this token made."""
        for name, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(name):
                return 400, _error(code, f"A '{name}' parameter is required.")
        if not E164.match(form["To"]) or form["To"] in self.invalid:
            return 400, _error(21211, f"The 'To' number {form['To']} is not a valid phone number.")
        with self.lock:
            message = next(
                (m for m in self.messages if key is not None and m.idempotency_key == key), None
            )
            if message is None:
                message = Message(
                    "SM" + secrets.token_hex(16), form["To"], form["From"], form["Body"], key
                )
                self.messages.append(message)
        return 201, self.resource(message, "queued")

    def fetch(self, sid: str) -> tuple[int, dict[str, object]]:
        with self.lock:
            message = next((m for m in self.messages if m.sid == sid), None)
        if message is None:
            return 404, _error(20404, f"The requested resource {sid} was not found", 404)
        return 200, self.resource(message, self.status_of(message))

    def webhook(self, payload: dict[str, str], key: str | None) -> tuple[int, dict[str, object]]:
        if not key or payload.get("idempotency_key") != key:
            return 400, {"error": "Idempotency-Key header missing or not the body's key"}
        with self.lock:
            message = next((m for m in self.messages if m.idempotency_key == key), None)
            if message is None:
                message = Message(
                    "wh-" + secrets.token_hex(8),
                    payload["to"],
                    payload["from"],
                    payload["body"],
                    key,
                )
                self.messages.append(message)
        return 202, {"id": message.sid, "status": "accepted"}

    def take_fault(self) -> str | None:
        """The fault the next POST gets, counted down: 'fail', 'slow' or none."""
        with self.lock:
            if self.fail_posts:
                self.fail_posts -= 1
                return "fail"
            if self.slow_posts:
                self.slow_posts -= 1
                return "slow"
            return None


def _error(code: int, message: str, status: int = 400) -> dict[str, object]:
    """Twilio's error body: `code` is what tells a bad number from a bad request."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(server: TwilioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK (40 ms per request on a kept-alive connection).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests assert on `server.requests`, not on a log."""

        def do_GET(self) -> None:
            self.handle_request("GET")

        def do_POST(self) -> None:
            self.handle_request("POST")

        def handle_request(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = urlsplit(self.path).path
            with server.lock:
                server.requests.append(Request(method, path, dict(self.headers.items()), body))
            if path == WEBHOOK and method == "POST":
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    self.answer(401, {"error": "bad bearer token"})
                    return
                payload = json.loads(body or b"{}")
                self.answer(*server.webhook(payload, self.headers.get("Idempotency-Key")))
                return
            match = MESSAGES.match(path)
            if match is None:
                self.answer(404, _error(20404, f"The requested resource {path} was not found", 404))
                return
            if not self.authorised():
                self.answer(401, _error(20003, "Authenticate", 401))
                return
            if match["account"] != server.account:
                self.answer(404, _error(20404, f"The requested resource {path} was not found", 404))
                return
            if method == "GET" and match["sid"]:
                self.answer(*server.fetch(match["sid"]))
                return
            if method != "POST" or match["sid"]:
                self.answer(405, {"message": "method not allowed"})
                return
            fault = server.take_fault()
            if fault == "fail":
                self.answer(500, {"message": "internal server error (injected)"})
                return
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
            answer = server.create(form, self.headers.get("I-Twilio-Idempotency-Token"))
            if fault == "slow":
                time.sleep(server.slow_s)
            self.answer(*answer)

        def authorised(self) -> bool:
            expected = base64.b64encode(f"{server.account}:{server.token}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def answer(self, status: int, payload: dict[str, object]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status, HTTPStatus(status).phrase)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the slow fault): nobody reads the answer

    return Handler
