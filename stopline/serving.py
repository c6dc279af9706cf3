"""The deployment's web servers (the review console, the kiosk pages) under uvicorn, bounded
against clients that hold connections open.

uvicorn closes a connection idle between requests (`timeout_keep_alive`) and caps a request
head's size, but gives a request head all the time it likes: a client that connects and sends
its headers a byte at a time (slowloris) held its connection for ever, and enough of them hold
every file descriptor the process has. `HeadTimeout` closes a connection whose request head is
not complete `header_timeout_s` after it connected or got its previous answer, however steadily
it trickles in. uvicorn is pinned (pyproject.toml); the protocol's hooks used here are those of
its h11 implementation.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from pipeline.config import ServerLimits


class HeadTimeout(H11Protocol):
    def __init__(self, *args: Any, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole head arrived: a request is on
            self._stop_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._stop_head_timer()
        self.head_timer = self.loop.call_later(self.header_timeout_s, self.transport.close)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None


def server_config(
    web: FastAPI, host: str, port: int, limits: ServerLimits, log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        web,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        http=partial(HeadTimeout, header_timeout_s=limits.header_timeout_s),
        timeout_keep_alive=limits.keep_alive_s,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        limit_concurrency=limits.max_connections,
    )
