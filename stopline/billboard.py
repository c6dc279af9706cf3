"""The kiosk pages wired to a deployment: its store, evidence and billboard renderer."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from display.kiosk import create_kiosk
from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore
from stopline.deployment import deployment_store, make_billboards


def kiosk_app(config: StoplineConfig, base_dir: Path) -> FastAPI:
    """The app `stopline display serve` runs: it reads playlists from the store, which the
    display stage (`stopline run` or `stopline worker display`) fills."""
    store = deployment_store(config, base_dir)
    evidence = EvidenceStore(base_dir / config.storage.evidence_dir)
    return create_kiosk(make_billboards(config, store, evidence))
