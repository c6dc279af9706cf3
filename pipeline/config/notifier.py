"""SMS fine notices."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from pipeline.config.base import Model


class NotifierConfig(Model):
    enabled: bool = Field(True, description="Send SMS notices for approved citations")
    gateway: Literal["file", "http", "smpp"] = Field(
        "file", description="file: JSON per message in outbox_dir (default); http; smpp"
    )
    outbox_dir: Path = Field(
        Path("stopline-data/sms-outbox"), description="Folder the file gateway writes to"
    )
    url: str | None = Field(
        None,
        description=(
            "http: the API base URL (twilio: up to and excluding /2010-04-01; webhook: the "
            "endpoint); smpp: smpp://host:port of the SMSC"
        ),
    )
    http_api: Literal["twilio", "webhook"] = Field(
        "twilio",
        description=(
            "http: twilio (Twilio's Messages API, form-encoded, Basic auth, idempotency "
            "token header) or webhook (JSON POST with an Idempotency-Key header)"
        ),
    )
    account: str | None = Field(
        None, description="http twilio: the Account SID; smpp: the system_id to bind with"
    )
    secret_env: str | None = Field(
        None,
        description=(
            "Name of the environment variable holding the gateway secret (Twilio auth token, "
            "webhook bearer token or SMPP password); secrets never sit in this file"
        ),
    )
    sender_id: str | None = Field(
        None, description="http/smpp: the number or alphanumeric sender the SMS comes from"
    )
    timeout_s: float = Field(10.0, gt=0, description="http/smpp: seconds to wait for an answer")
    max_segments: int = Field(3, ge=1, le=10, description="Longest SMS allowed, in segments")
    max_attempts: int = Field(8, ge=1, description="Tries (count) before a message is dead")
    rate_per_s: float = Field(10.0, gt=0, description="Messages per second per gateway")
    fine_amount: float = Field(200.0, ge=0, description="Fine, in units of `currency`")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")
    payment_days: int = Field(15, ge=1, description="Days to pay after the notice")
    appeal_days: int = Field(
        15, ge=0, description="Days after the notice in which the fined person may contest it"
    )
    default_language: str = Field(
        "en",
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description=(
            "BCP-47 tag of the notice sent to people whose language has no template (or is "
            "unknown); a notice template must exist for it"
        ),
    )
    default_region: str | None = Field(
        None,
        description=(
            "ISO 3166 alpha-2 region (CN, DE, GB) in which registry phone numbers without "
            "+country code are read; none: such numbers are refused"
        ),
    )
    timezone: str = Field(
        "UTC",
        description="IANA time zone (Asia/Shanghai) of the offence time and deadline in notices",
    )
    portal_url: str = Field(
        "https://fines.example.gov",
        pattern=r"^(https://\S+|http://(127\.0\.0\.1|localhost)(:\d+)?(/\S*)?)$",
        description=(
            "https URL of the citizen portal, printed in the notice: where the fined person "
            "sees the evidence with the notice number and PIN, pays or contests; the payment "
            "provider sends the person back to its /case page. http only on this machine "
            "(127.0.0.1, localhost: a portal tried out locally)"
        ),
    )

    @property
    def fine_text(self) -> str:
        """The fine as notices and billboards print it: 200 CNY, 72.50 USD."""
        amount = self.fine_amount
        digits = 0 if amount == int(amount) else 2
        return f"{amount:,.{digits}f} {self.currency}"

    @field_validator("default_region")
    @classmethod
    def _region_is_known(cls, value: str | None) -> str | None:
        import phonenumbers

        if value is not None and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("an ISO 3166 alpha-2 region with a numbering plan, such as 'GB'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("an IANA time zone name such as 'Asia/Shanghai'") from error
        return value
