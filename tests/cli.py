"""Running the `stopline` command as a user does: a real subprocess of this interpreter."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "stopline"]
HEAVY_S = 1200
"""Safety net of tests that run heavy commands (OCR, a clip analysed several times): on two
busy cores (issue 18: load 8-24, or `stress-ng --cpu 2`) they passed pytest's 300 s."""


def stopline(
    *args: str, cwd: Path = ROOT, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout_s
    )
