"""The cameras' and the analysis' fixed numbers, and the table's columns."""

from __future__ import annotations

import os
from pathlib import Path

VIDEOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "video"
CLIPS = ("y3.mov", "y2.mp4")
CAMERA_FPS = 25
ANALYSIS_FPS = 5.0
GOP_S = 2.0
# What makes the clip; part of its cache name, so changing it makes a new clip.
ENCODE = (
    *("-c:v", "libx264", "-preset", "fast", "-profile:v", "main", "-bf", "0"),
    *("-g", str(round(GOP_S * CAMERA_FPS)), "-keyint_min", str(round(GOP_S * CAMERA_FPS))),
    *("-sc_threshold", "0", "-b:v", "5M", "-maxrate", "5M", "-bufsize", "10M"),
)
FILTER = (
    f"[0:v]fps={CAMERA_FPS},scale=1920:1080:flags=bicubic,setsar=1[a];"
    # y2 is 450x360: cropped to 16:9 first, so objects keep their shape.
    f"[1:v]fps={CAMERA_FPS},crop=iw:trunc(iw*9/32)*2,scale=1920:1080:flags=bicubic,setsar=1[b];"
    "[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]"
)
SUB_ENCODE = (
    *ENCODE[: ENCODE.index("-b:v")],
    *("-b:v", "800k", "-maxrate", "800k", "-bufsize", "1600k"),
)
SUB_FILTER = "scale=640:360:flags=area"
TARGET_FPS = ANALYSIS_FPS * 0.95
MAX_P95_S = 1.0
MAX_BEHIND_S = 0.5
READY_TIMEOUT_S = 90.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
COLUMNS = (
    *("N", "procs", "fps min", "fps med", "read min", "late %", "p95 ms", "behind s"),
    *("decode", "record", "detect", "track", "other"),
    *("stopline %", "cameras %", "others %", "all %"),
    "sustained",
)
QUIET_BUSY = 0.15
