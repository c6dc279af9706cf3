"""Police review of every case."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model


class ReviewConfig(Model):
    auto_approve: bool = Field(
        False,
        description="Approve without a person; every auto decision is audited. Off by default",
    )
    demo_reviewer: str | None = Field(
        None,
        description="Demo only: this user name approves every case automatically, audited as such",
    )
    listen_host: str = Field("127.0.0.1", description="Address the review console binds to")
    listen_port: int = Field(8080, ge=1, le=65535, description="TCP port of the review console")
    cookie_secure: bool = Field(
        True,
        description=(
            "Send the session cookie over HTTPS only; turn off only where the console is "
            "reached on this machine over plain HTTP (the demo, tests)"
        ),
    )
    session_hours: float = Field(12.0, gt=0, description="A login lasts at most this long")
    idle_minutes: float = Field(30.0, gt=0, description="A login unused this long ends")
    max_failed_logins: int = Field(
        10, ge=1, description="Wrong passwords in a row (count) that lock an account"
    )
    lockout_minutes: float = Field(15.0, gt=0, description="How long a locked account stays locked")
    page_size: int = Field(50, ge=1, le=500, description="Citations per page in the queue and API")
    metrics_token: str | None = Field(
        None,
        min_length=24,
        description=(
            "Bearer token a Prometheus scraper sends for /metrics; without it /metrics needs "
            "an admin or auditor login"
        ),
    )
