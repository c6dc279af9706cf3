"""The citizen portal: where a fined person opens their case with the notice number and PIN."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import Model
from pipeline.config.server import ServerLimits


class PaymentsConfig(Model):
    provider: Literal["none", "stripe"] = Field(
        "none",
        description=(
            "none: the portal shows the fine but takes no payment; stripe: Stripe Checkout "
            "(a hosted payment page; the fine is paid when its signed webhook says so)"
        ),
    )
    url: str = Field(
        "https://api.stripe.com",
        pattern=r"^https?://\S+$",
        description="stripe: the API base URL, up to and excluding /v1",
    )
    secret_env: str | None = Field(
        None,
        description="Name of the environment variable holding the provider's secret API key",
    )
    webhook_secret_env: str | None = Field(
        None,
        description=(
            "Name of the environment variable holding the webhook signing secret: a payment "
            "counts only when its notification carries a valid signature"
        ),
    )
    page_origin: str = Field(
        "https://checkout.stripe.com",
        pattern=r"^https?://[^/\s]+$",
        description=(
            "Origin of the provider's hosted payment page: the portal's content security "
            "policy lets its pay form lead there and nowhere else"
        ),
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds to wait for the provider")

    @model_validator(mode="after")
    def _secrets_named(self) -> PaymentsConfig:
        if self.provider != "none" and not (self.secret_env and self.webhook_secret_env):
            raise ValueError(f"provider {self.provider} needs secret_env and webhook_secret_env")
        return self


class PortalMediaConfig(Model):
    enabled: bool = Field(
        True,
        description=(
            "Make, once per approved case, the key frames and clip the portal shows the person "
            "fined, with bystanders' faces and bodies and other vehicles' plates blurred"
        ),
    )
    sample_fps: float = Field(
        4.0,
        gt=0,
        le=60,
        description=(
            "Frames per second of the clip searched for people and plates (each costs a "
            "person finder and a plate spotter); frames between are blurred by what the "
            "searched frames around them found"
        ),
    )


class PortalConfig(Model):
    listen_host: str = Field("127.0.0.1", description="Address the portal binds to")
    listen_port: int = Field(8091, ge=1, le=65535, description="TCP port of the portal")
    server: ServerLimits = Field(
        default_factory=ServerLimits, description="Connection limits of the portal's server"
    )
    cookie_secure: bool = Field(
        True,
        description=(
            "Send the portal's cookie over HTTPS only; turn off only where the portal is "
            "reached on this machine over plain HTTP (the demo, tests)"
        ),
    )
    session_minutes: float = Field(
        30.0, gt=0, le=24 * 60, description="A portal login lasts at most this long"
    )
    max_failed_pins: int = Field(
        5,
        ge=1,
        le=100,
        description=(
            "Wrong PINs (count) for one notice number before each further try must wait: 1 s, "
            "doubling with each failure, never longer than pin_wait_max_s"
        ),
    )
    pin_wait_max_s: float = Field(
        3600.0,
        gt=0,
        le=86400,
        description=(
            "Longest wait (seconds) before the next PIN for one notice number: a 6-digit PIN "
            "must not be guessable by trying, and only its owner knows the number"
        ),
    )
    max_failed_pins_per_address: int = Field(
        20,
        ge=1,
        description=(
            "Wrong notice numbers or PINs (count) from one client address before each further "
            "try from it must wait, up to pin_wait_max_s: no walking through notice numbers"
        ),
    )
    max_upload_bytes: int = Field(
        10 * 2**20,
        ge=1024,
        le=100 * 2**20,
        description="Largest file (bytes) a person may attach to an appeal",
    )
    payments: PaymentsConfig = Field(
        default_factory=PaymentsConfig, description="Paying the fine from the portal"
    )
    media: PortalMediaConfig = Field(
        default_factory=PortalMediaConfig, description="The evidence the portal shows"
    )
