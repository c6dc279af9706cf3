"""Notice numbers and PINs: what a fined person types to open their own case, and nothing more.

A notice number is given when a citation is approved (`citations.transition`), so every case
that may reach a person has one, whether its SMS goes out or a clerk mails it. It is random, not
counted: numbers next to one's own lead nowhere, and with a check digit a typo is told apart
from a guess without asking the database. The PIN is derived from the number with a secret key
(HMAC-SHA256) rather than stored: the notifier prints it and the portal checks it, each from the
same key file, and a copy of the database alone opens no case.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.evidence import atomic_write

NUMBER_DIGITS = 11
"""Ten random digits and a Luhn check digit."""
PIN_DIGITS = 6
KEY_BYTES = 32


def new_notice_number(taken: Callable[[str], bool]) -> str:
    """A fresh notice number for which `taken` is false (the store's column is also unique)."""
    while True:
        body = str(secrets.randbelow(9 * 10 ** (NUMBER_DIGITS - 2)) + 10 ** (NUMBER_DIGITS - 2))
        number = body + _luhn_digit(body)
        if not taken(number):
            return number


def is_notice_number(text: str) -> bool:
    """Right length, digits only, check digit right: worth looking up."""
    return (
        len(text) == NUMBER_DIGITS
        and text.isascii()
        and text.isdigit()
        and _luhn_digit(text[:-1]) == text[-1]
    )


def due_date(start: datetime, days: int, timezone: str) -> date:
    """The date `days` after `start` in the deployment's zone: a notice's pay-by or contest-by
    date, the same wherever it is printed (SMS, portal)."""
    return start.astimezone(ZoneInfo(timezone)).date() + timedelta(days=days)


def end_of(day: date, timezone: str) -> datetime:
    """When a printed date is over: midnight after it, in the deployment's zone (as UTC). A
    window that "ends on" a date is open all that day, for an appeal and for a billboard hold."""
    zone = ZoneInfo(timezone)
    return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def pin_for(key: bytes, notice_number: str) -> str:
    digest = hmac.new(key, notice_number.encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**PIN_DIGITS).zfill(PIN_DIGITS)


def pin_matches(key: bytes, notice_number: str, pin: str) -> bool:
    """Compared as bytes: `compare_digest` raises on non-ASCII text, which would answer a PIN
    typed in full-width digits differently for numbers that exist."""
    return hmac.compare_digest(pin_for(key, notice_number).encode(), pin.strip().encode())


def load_or_create_pin_key(path: Path) -> bytes:
    """The deployment's PIN key; created (mode 0600, hex) on first use."""
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"{path} is not a hex PIN key") from error
        if len(key) < 16:
            raise ValueError(f"{path} holds {len(key)} bytes; a PIN key has at least 16")
        return key
    key = secrets.token_bytes(KEY_BYTES)
    atomic_write(path, key.hex().encode() + b"\n")
    path.chmod(0o600)
    return key


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return str(-total % 10)
