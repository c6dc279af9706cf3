"""The configured gateway; only `stopline` wiring calls this."""

from __future__ import annotations

from pathlib import Path

from notifier.file_gateway import FileGateway
from notifier.gateway import Gateway
from pipeline.config import NotifierConfig


class GatewayUnavailable(ValueError):
    """A gateway kind this build does not provide yet, said at start-up, not at the first SMS."""


def make_gateway(config: NotifierConfig, base_dir: Path) -> Gateway:
    if config.gateway == "file":
        folder = (
            config.outbox_dir if config.outbox_dir.is_absolute() else base_dir / config.outbox_dir
        )
        return FileGateway(folder)
    raise GatewayUnavailable(
        f"notifier.gateway {config.gateway!r} is not available yet; use 'file'"
    )
