"""The configured gateway; only `stopline` wiring calls this (it imports only the one in use)."""

from __future__ import annotations

from pathlib import Path

from notifier.file_gateway import FileGateway
from notifier.gateway import Gateway
from pipeline.config import NotifierConfig


def make_gateway(config: NotifierConfig, base_dir: Path) -> Gateway:
    if config.gateway == "file":
        folder = (
            config.outbox_dir if config.outbox_dir.is_absolute() else base_dir / config.outbox_dir
        )
        return FileGateway(folder)
    if config.gateway == "http":
        from notifier.http_gateway import HttpGateway

        return HttpGateway(config)
    from notifier.smpp_gateway import SmppGateway

    return SmppGateway(config)
