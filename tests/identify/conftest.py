"""Fixtures shared by the identification tests."""

from collections.abc import Callable
from functools import cache

import pytest

from identify.plates import PlateReader
from pipeline.config import PlatesConfig
from stopline.deployment import plate_reader


@pytest.fixture(scope="package")
def readers() -> Callable[[str], PlateReader]:
    """The deployment's plate reader for a region, each built once for these tests: its models
    take seconds to load, and a reader keeps nothing from one read to the next."""
    return cache(lambda region: plate_reader(PlatesConfig(region=region)))
