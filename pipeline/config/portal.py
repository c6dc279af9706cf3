"""The citizen portal: where a fined person opens their case with the notice number and PIN."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model
from pipeline.config.server import ServerLimits


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
