"""A deployment's shared resources, as every process opens them: its store, its billboards,
and the detectors that identification borrows from `detectors`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from detectors.objects import make_detector
from display.billboards import Billboards
from display.fonts import find_fonts
from display.render import Renderer
from display.slide import Locale
from identify.engines import make_spotter
from identify.faces import FaceEngine
from identify.people import PeopleFinder
from identify.plates import PlateReader
from pipeline.config import DetectorSpec, PlatesConfig, StoplineConfig
from pipeline.evidence import EvidenceStore
from pipeline.store import Store, open_store
from pipeline.store.registry import put_camera


def resolve_sqlite(url: str, base_dir: Path) -> str:
    """A relative SQLite path in the config is relative to the run's base folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base_dir / url[len(prefix) :]).resolve())
    return url


def deployment_store(config: StoplineConfig, base_dir: Path) -> Store:
    """The configured store, migrated, with the configured cameras registered."""
    store = open_store(resolve_sqlite(config.storage.database_url, base_dir))
    with store.session() as session:
        for cam in config.cameras:
            put_camera(session, cam.id, cam.id, cam.location)
    return store


def make_billboards(
    config: StoplineConfig,
    store: Store,
    evidence: EvidenceStore,
    finder: Callable[[], PeopleFinder] | None = None,
) -> Billboards:
    """Fonts found and every screen checked once: a missing font or a layout that cannot hold
    the longest slide stops the start, not the first approval. The people finder (detector
    models; `finder` where the process shares one) loads only when a picture first needs it."""
    display = config.display
    renderer = Renderer(find_fonts(display.font_path))
    for screen in display.screens:
        renderer.check(screen, display.message)
    notifier = config.notifier
    locale = Locale(notifier.timezone, notifier.fine_text, display.message)
    finder = finder or partial(people_finder, config)
    return Billboards(store, evidence, display, locale, renderer, finder, notifier.appeal_days)


def plate_reader(config: PlatesConfig) -> PlateReader:
    """Plates are looked for on the largest vehicles the default detector finds (the SSD, which
    every install has), whatever detector the cameras run."""
    return PlateReader(config, partial(make_detector, DetectorSpec()))


def people_finder(config: StoplineConfig) -> PeopleFinder:
    """The deployment's detector, asked for persons only: a deployment that does not track
    pedestrians (`detector.classes` without person) still has bystanders to blur."""
    spec = config.detector.model_copy(update={"classes": ("person",)})
    return PeopleFinder(
        make_detector(spec),
        FaceEngine(config.identification.faces),
        make_spotter(config.identification.plates.engine),
    )
