"""SMS over an HTTP API: Twilio's Messages API, or a plain JSON webhook in front of a carrier.

Both hand the outbox row's idempotency key to the provider (Twilio's
`I-Twilio-Idempotency-Token`, the webhook's `Idempotency-Key`), because the sender resends a
row whose answer it never recorded: after a client timeout, or after a worker died between the
request and the commit. Only the provider can tell that second request from a new message.

Answers are sorted into what the sender can act on: no answer, throttling (429) and server
errors (5xx) may pass, so they are `TemporaryFailure`; any other 4xx refuses this message as
it is (Twilio 21211, an invalid number), so retrying it would only be refused again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from urllib.parse import quote

import httpx

from notifier.gateway import (
    Accepted,
    DeliveryReport,
    Gateway,
    PermanentFailure,
    Sms,
    TemporaryFailure,
)
from pipeline.config import NotifierConfig

log = logging.getLogger(__name__)

TWILIO_API = "2010-04-01"
DELIVERED = frozenset({"delivered", "read"})
"""Twilio statuses that end a message on the phone."""
NOT_DELIVERED = frozenset({"failed", "undelivered", "canceled"})
"""Twilio statuses after which the message will never arrive."""
RECEIPT_POLL_S = 30.0
"""Seconds between two polls of one message: the sender asks for receipts several times a
second, and Twilio counts every GET against the account's request limit."""
EXCERPT_CHARS = 300


class HttpGateway(Gateway):
    """One provider at `config.url`, chosen by `config.http_api`.

    Twilio receipts are polled (`GET .../Messages/{sid}.json`) for the messages the outbox
    still waits on, each at most every `receipt_poll_s`; the list comes from the store, so a
    restart polls right away what it left open. The webhook flavour reports no receipts.
    """

    name = "http"

    def __init__(self, config: NotifierConfig, receipt_poll_s: float = RECEIPT_POLL_S) -> None:
        if not config.url:
            raise ValueError("notifier.url is required for the http gateway")
        self.api = config.http_api
        self.sender_id = config.sender_id
        self.receipt_poll_s = receipt_poll_s
        token = _secret(config.secret_env)
        if self.api == "twilio":
            if not config.account or not config.sender_id or token is None:
                raise ValueError(
                    "notifier http_api 'twilio' needs account (the Account SID), sender_id "
                    "(the From number) and secret_env (the variable holding the auth token)"
                )
            self.endpoint = (
                f"{config.url.rstrip('/')}/{TWILIO_API}/Accounts/{quote(config.account)}/Messages"
            )
            self.client = httpx.Client(timeout=config.timeout_s, auth=(config.account, token))
        else:
            self.endpoint = config.url
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            self.client = httpx.Client(timeout=config.timeout_s, headers=headers)
        self._next_poll: dict[str, float] = {}
        """Twilio sid -> monotonic time before which it is not asked about again."""

    def close(self) -> None:
        self.client.close()

    def send(self, sms: Sms) -> Accepted:
        if self.api == "twilio":
            return self._send_twilio(sms)
        return self._send_webhook(sms)

    def receipts(self, awaiting: Sequence[str]) -> list[DeliveryReport]:
        if self.api != "twilio":
            return []
        now = time.monotonic()
        reports = []
        for sid in awaiting:
            if self._next_poll.get(sid, 0.0) > now:
                continue
            self._next_poll[sid] = now + self.receipt_poll_s
            try:
                message = self._answer(
                    self._request("GET", f"{self.endpoint}/{quote(sid)}.json"), "GET message"
                )
            except TemporaryFailure as exc:
                log.warning("no delivery status for sms %s yet: %s", sid, exc)
                continue
            except PermanentFailure as exc:
                # Refused (gone, not ours): report it, asking again won't help.
                reports.append(DeliveryReport(sid, delivered=False, detail=str(exc)))
                continue
            status = message.get("status")
            if status in DELIVERED:
                reports.append(DeliveryReport(sid, delivered=True, detail=str(status)))
            elif status in NOT_DELIVERED:
                detail = (
                    f"{status}: error {message.get('error_code')}: {message.get('error_message')}"
                )
                reports.append(DeliveryReport(sid, delivered=False, detail=detail))
        for report in reports:
            self._next_poll.pop(report.gateway_message_id, None)
        return reports

    def _send_twilio(self, sms: Sms) -> Accepted:
        form = {"To": sms.to, "From": self.sender_id, "Body": sms.body}
        headers = {"I-Twilio-Idempotency-Token": sms.idempotency_key}
        message = self._answer(
            self._request("POST", f"{self.endpoint}.json", headers, data=form), "POST message"
        )
        sid = message.get("sid")
        if not isinstance(sid, str) or not sid:
            # Resending under the same token is safe, so an odd answer is only a delay.
            raise TemporaryFailure(f"twilio accepted without a sid: {_excerpt(str(message))}")
        return Accepted(gateway_message_id=sid)

    def _send_webhook(self, sms: Sms) -> Accepted:
        payload = {
            "to": sms.to,
            "from": self.sender_id,
            "body": sms.body,
            "idempotency_key": sms.idempotency_key,
        }
        headers = {"Idempotency-Key": sms.idempotency_key}
        answer = self._answer(
            self._request("POST", self.endpoint, headers, payload=payload), "POST"
        )
        message_id = answer.get("id")
        return Accepted(gateway_message_id=str(message_id or sms.idempotency_key))

    def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        data: dict[str, str | None] | None = None,
        payload: dict[str, str | None] | None = None,
    ) -> httpx.Response:
        try:
            return self.client.request(method, url, headers=headers, data=data, json=payload)
        except httpx.TimeoutException as exc:
            # A POST may have been accepted anyway; the retry's idempotency key covers that.
            raise TemporaryFailure(f"no answer from {url} in time: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"cannot reach {url}: {exc!r}") from exc

    def _answer(self, response: httpx.Response, what: str) -> dict[str, object]:
        """The JSON object of a 2xx answer (empty if it has none); else the failure it means."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                return {}
            return body if isinstance(body, dict) else {}
        problem = f"{what} -> HTTP {status}: {_problem(response)}"
        if status in (408, 429) or status >= 500:
            raise TemporaryFailure(problem)
        raise PermanentFailure(problem)


def _secret(env: str | None) -> str | None:
    if env is None:
        return None
    try:
        return os.environ[env]
    except KeyError:
        raise ValueError(
            f"notifier.secret_env names the environment variable {env!r}, which is not set"
        ) from None


def _problem(response: httpx.Response) -> str:
    """Twilio's `code: message` when the body has them (21211 says more than 400), else text."""
    try:
        body = response.json()
    except ValueError:
        return _excerpt(response.text)
    if isinstance(body, dict) and "code" in body:
        return _excerpt(f"code {body['code']}: {body.get('message', '')}")
    return _excerpt(response.text)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."
