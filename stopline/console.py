"""The review console and the citizen portal wired to a deployment: store, evidence, keys and
the plate normalisation.

Here, not in `review/`, because the plate normalisation is the detectors' and only `stopline`
may join stages; the console itself never imports a detector.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from identify.plates import registry_plate
from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore
from pipeline.notices import load_or_create_pin_key
from portal.app import Portal
from portal.app import create_app as create_portal
from portal.payments import Stripe
from review.app import create_app
from review.web import Console
from stopline.deployment import deployment_store


def make_console(config: StoplineConfig, base_dir: Path) -> Console:
    return Console(
        config=config,
        store=deployment_store(config, base_dir),
        evidence=EvidenceStore(base_dir / config.storage.evidence_dir),
        plate_key=partial(registry_plate, region=config.identification.plates.region),
    )


def portal_app(config: StoplineConfig, base_dir: Path) -> FastAPI:
    """The app `stopline portal serve` runs: the store, the evidence and the PIN key only."""
    return create_portal(
        Portal(
            config=config,
            store=deployment_store(config, base_dir),
            evidence=EvidenceStore(base_dir / config.storage.evidence_dir),
            pin_key=load_or_create_pin_key(base_dir / config.storage.pin_key_path),
            payments=None
            if config.portal.payments.provider == "none"
            else Stripe(config.portal.payments),
        )
    )


def console_app(config: StoplineConfig, base_dir: Path) -> FastAPI:
    """The app `stopline review serve` runs. It has no bus: decisions are announced through the
    event outbox in the store, which `stopline run` (or the `relay` worker) publishes."""
    return create_app(make_console(config, base_dir))
