"""Police review of every case."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipeline.config.base import Model
from pipeline.config.server import ServerLimits


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
    server: ServerLimits = Field(
        default_factory=ServerLimits, description="Connection limits of the console's server"
    )
    cookie_secure: bool = Field(
        True,
        description=(
            "Send the session cookie over HTTPS only; turn off only where the console is "
            "reached on this machine over plain HTTP (the demo, tests)"
        ),
    )
    session_hours: float = Field(12.0, gt=0, description="A login lasts at most this long")
    idle_minutes: float = Field(30.0, gt=0, description="A login unused this long ends")
    confirm_approval: Literal["none", "clip_watched"] = Field(
        "clip_watched",
        description=(
            "clip_watched: the console approves a case with a clip only once the reviewer has "
            "played it through the moment of the violation (recorded with the approval); "
            "none: any time"
        ),
    )
    double_review_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description=(
            "Share (0-1) of cases two reviewers decide blind, the second without seeing the "
            "first's decision: the case changes only when they agree, else a supervisor "
            "decides; their agreement measures the review"
        ),
    )
    lease_minutes: float = Field(
        5.0,
        gt=0,
        le=120,
        description=(
            "Opening a pending case leases it to the reviewer this long (renewed on each "
            "opening): nobody else can decide it meanwhile; a decision ends the lease"
        ),
    )
    decide_within_days: float = Field(
        14.0,
        gt=0,
        le=365,
        description=(
            "A case is to be decided within this many days of the offence (a notice served "
            "later is void in many jurisdictions): the queue shows each case's deadline and "
            "marks those due within a day or overdue"
        ),
    )
    max_failed_logins: int = Field(
        10,
        ge=1,
        description=(
            "Wrong passwords (count) for one name, from anywhere, before each further try for "
            "it must wait: 1 s, doubling with each failure, never longer than account_wait_max_s"
        ),
    )
    account_wait_max_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description=(
            "Longest wait (seconds) before the next try for one name: short, so that guessing "
            "at a name never locks its officer out"
        ),
    )
    max_failed_logins_per_address: int = Field(
        30,
        ge=1,
        description=(
            "Wrong passwords (count, any names) from one client address before each further "
            "try from it must wait: 1 s, doubling, never longer than lockout_minutes"
        ),
    )
    lockout_minutes: float = Field(
        15.0,
        gt=0,
        description=("Longest wait for a client address; failures older than this are forgotten"),
    )
    page_size: int = Field(50, ge=1, le=500, description="Citations per page in the queue and API")
    metrics_token: str | None = Field(
        None,
        min_length=24,
        description=(
            "Bearer token a Prometheus scraper sends for /metrics; without it /metrics needs "
            "an admin or auditor login"
        ),
    )
