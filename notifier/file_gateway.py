"""The embedded default gateway: each message is one JSON file in an outbox folder.

The file is named by the message's idempotency key and written atomically, so a retry rewrites
the same file: one notice, one file, however often the worker sends it. A real deployment
points an SMS relay at the folder, or configures the http or smpp gateway instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from notifier.gateway import Accepted, Gateway, Sms, TemporaryFailure
from pipeline.evidence import atomic_write
from pipeline.store.models import utcnow


class FileGateway(Gateway):
    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sms: Sms) -> Accepted:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", sms.idempotency_key) + ".json"
        record = {
            "to": sms.to,
            "body": sms.body,
            "idempotency_key": sms.idempotency_key,
            "written_at": utcnow().isoformat(),
        }
        try:
            data = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
            atomic_write(self.folder / name, data.encode())
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.folder / name}: {exc}") from exc
        return Accepted(gateway_message_id=name, delivered=True)
