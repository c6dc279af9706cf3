"""Waiting for a condition, never for a duration: a busy machine only makes it slower."""

import time
from collections.abc import Callable

import pytest


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout_s} s")
        time.sleep(0.05)
