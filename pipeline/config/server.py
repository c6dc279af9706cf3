"""Limits of the deployment's web servers (the review console, the billboards' kiosk pages)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model


class ServerLimits(Model):
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description=(
            "A connection must send a whole request head within this long of connecting (or of "
            "its previous answer), or it is closed: a client that sends its headers a byte at a "
            "time (slowloris) cannot hold connections open"
        ),
    )
    keep_alive_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="An idle connection between two requests is closed after this",
    )
    max_header_bytes: int = Field(
        16384,
        ge=1024,
        le=1048576,
        description="Largest request head (bytes); a larger one is answered 400 and closed",
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description=(
            "Connections and requests in progress at once; past it a request is answered 503 "
            "at once instead of queueing"
        ),
    )
