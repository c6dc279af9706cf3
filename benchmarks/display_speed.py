"""Billboard frames: the time to draw one, and the delay from approval to the frame being live.

Render: one approved citation (a real y2.mp4 offender crop, bystanders already found) drawn
at each size from the store, as the players and kiosk pages draw it; `slide+draw` reads the
citation and draws the layout, `png` and `rgb565` encode the frame for the folder/http and
HUB75 outputs. Mean and p95 over `--frames` draws (the frame cache is bypassed).

Live: in one process, as `stopline run` wires them: a reviewer's approval writes its
announcement into the event outbox (`review.cases.approve`); the relay publishes it to the
memory bus (polling every 0.2 s when idle, as in production); the display stage finds the
people in the picture (YuNet, SSD persons, the plate reader), posts the item and wakes the
screens' players, which draw it and write `current.png` atomically. The delay runs from the
approval's commit to that write finishing, for a 256x128 LED module and a 1920x1080 screen at
the same crossing. A kiosk screen (1920x1080) at the same crossing is watched as its page
watches it, by a client long-polling the kiosk app (uvicorn on loopback): there the frame is
live once the client has fetched its PNG. Goal: p95 <= 1 s.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import httpx
import uvicorn
import yaml
from PIL import Image

from benchmarks import review_cases
from benchmarks.bench_store import Backend, _database
from benchmarks.common import (
    argument_parser,
    num,
    percentiles_ms,
    print_table,
    run_benchmark,
    stderr,
)
from display.billboards import Billboards
from display.kiosk import create_kiosk
from display.outputs import FolderOutput
from display.player import ScreenPlayer, wake
from display.render import png, rgb565
from display.stage import DisplayStage
from pipeline.bus import MemoryBus
from pipeline.config import ScreenConfig, StoplineConfig, parse_config
from pipeline.events import CITATIONS_APPROVED
from pipeline.evidence import EvidenceStore
from pipeline.outbox import relay
from pipeline.store import Role, Store, open_store
from pipeline.store.models import utcnow
from pipeline.store.registry import add_user
from review.cases import approve
from stopline.demo.run import DEMO_CONFIG
from stopline.deployment import make_billboards

SCREENS = (("folder", 256, 128), ("folder", 1920, 1080), ("kiosk", 1920, 1080))
CAMERA = review_cases.CAMERAS[0]
WAIT_S = 60.0


def deployment(folder: Path) -> StoplineConfig:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["cameras"][0]["id"] = CAMERA
    data["display"] = {
        "screens": [
            {
                "id": f"{output}-{w}x{h}",
                "cameras": [CAMERA],
                "width_px": w,
                "height_px": h,
                "output": output,
            }
            for output, w, h in SCREENS
        ]
    }
    data["storage"]["evidence_dir"] = str(folder / "evidence")
    return parse_config(data, "benchmark")


def render_rows(frames: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = deployment(root)
        store = open_store(f"sqlite:///{root / 'render.db'}")
        try:
            evidence = EvidenceStore(root / "evidence")
            (citation,) = review_cases.seed(store, evidence, 1)
            with store.session() as session:
                add_user(session, "reviewer", "x", Role.REVIEWER)
                approve(session, citation, "reviewer")
            billboards = make_billboards(config, store, evidence)
            billboards.post(citation, utcnow())
            rows = []
            for screen in config.display.screens[:2]:
                draw, encode, raw = [], [], []
                for _ in range(frames):
                    t0 = time.perf_counter()
                    image = billboards.render_citation(citation, screen.id)
                    t1 = time.perf_counter()
                    png(image)
                    t2 = time.perf_counter()
                    rgb565(image)
                    t3 = time.perf_counter()
                    draw.append(t1 - t0)
                    encode.append(t2 - t1)
                    raw.append(t3 - t2)
                rows.append(
                    [
                        f"{screen.width_px}x{screen.height_px}",
                        str(frames),
                        *_mean_p95(draw),
                        *_mean_p95(encode),
                        *_mean_p95(raw),
                    ]
                )
            return rows
        finally:
            store.close()


def _mean_p95(samples: list[float]) -> list[str]:
    _, p95, _, _ = percentiles_ms(samples)
    return [num(sum(samples) / len(samples) * 1000, 1), num(p95, 1)]


class TimedFolder(FolderOutput):
    """The folder output, noting when each citation's frame was written."""

    def __init__(self, folder: Path, screen: ScreenConfig) -> None:
        super().__init__(folder, screen)
        self.live: dict[str, float] = {}

    def show(self, image: Image.Image, citation_id: str | None) -> None:
        super().show(image, citation_id)
        if citation_id is not None:
            self.live.setdefault(citation_id, time.monotonic())


class KioskWatcher:
    """A kiosk page's view of its screen: long-polls the playlist, fetches each new frame."""

    def __init__(self, billboards: Billboards, screen: ScreenConfig) -> None:
        self.screen = screen
        self.live: dict[str, float] = {}
        self.server = uvicorn.Server(
            uvicorn.Config(create_kiosk(billboards), host="127.0.0.1", port=0, log_level="error")
        )

    def run(self, stop: threading.Event) -> None:
        serving = threading.Thread(target=self.server.run)
        serving.start()
        while not self.server.started:
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}/billboard/{self.screen.id}"
        version = ""
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                url = f"{base}/playlist.json?version={version}&wait_s=1"
                playlist = client.get(url).json()
                version = playlist["version"]
                for item in playlist["items"]:
                    if item["citation_id"] not in self.live:
                        client.get(f"http://127.0.0.1:{port}{item['frame']}").raise_for_status()
                        self.live[item["citation_id"]] = time.monotonic()
        self.server.should_exit = True
        serving.join()


def live_row(backend: Backend, approvals: int, pace_s: float) -> list[str]:
    with _database(backend, durable=True) as url, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = deployment(root)
        store: Store = open_store(url)
        bus = MemoryBus()
        try:
            evidence = EvidenceStore(root / "evidence")
            ids = review_cases.seed(store, evidence, 2 * approvals)[0::2]  # one camera's
            with store.session() as session:
                add_user(session, "reviewer", "x", Role.REVIEWER)
            billboards = make_billboards(config, store, evidence)
            _ = billboards.finder  # models loaded before the clock starts, as in a running stage
            screens = config.display.screens
            folders = [TimedFolder(root / s.id, s) for s in screens if s.output == "folder"]
            players = [ScreenPlayer(billboards, o.screen, o) for o in folders]
            outputs = [*folders, *(KioskWatcher(billboards, s) for s in screens[len(folders) :])]
            stage = DisplayStage(billboards, partial(wake, players))
            consumer = bus.subscribe(CITATIONS_APPROVED, stage.group, stage.handle)
            stop = threading.Event()
            loops = [partial(relay, store, bus), consumer.run, *(p.run for p in players)]
            loops += [o.run for o in outputs if isinstance(o, KioskWatcher)]
            threads = [threading.Thread(target=f, args=(stop,)) for f in loops]
            for thread in threads:
                thread.start()
            approved_at: dict[str, float] = {}
            try:
                for citation_id in ids:
                    with store.session() as session:
                        approve(session, citation_id, "reviewer")
                    approved_at[citation_id] = time.monotonic()
                    time.sleep(pace_s)
                deadline = time.monotonic() + WAIT_S
                while time.monotonic() < deadline and any(len(o.live) < len(ids) for o in outputs):
                    time.sleep(0.05)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
                consumer.close()
            rows = []
            for output in outputs:
                delays = [output.live[c] - approved_at[c] for c in ids if c in output.live]
                if len(delays) < len(ids):
                    raise RuntimeError(f"{len(delays)} of {len(ids)} frames went live")
                p50, p95, _, worst = percentiles_ms(delays)
                screen = output.screen
                size = f"{screen.output} {screen.width_px}x{screen.height_px}"
                rows.append(
                    [backend, size, str(len(delays)), *(num(v, 0) for v in (p50, p95, worst))]
                )
            return rows
        finally:
            bus.close()
            store.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.display_speed", __doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--frames", type=int, default=30, help="draws per size")
    parser.add_argument("--approvals", type=int, default=40, help="approvals in the live run")
    parser.add_argument("--pace-s", type=float, default=1.5, help="seconds between approvals")
    args = parser.parse_args(argv)
    backends: list[Backend] = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    def body() -> None:
        stderr.print("render")
        print_table(
            "Billboard frame: draw and encode (ms)",
            (
                "screen",
                "n",
                "draw mean",
                "draw p95",
                "png mean",
                "png p95",
                "rgb565 mean",
                "rgb565 p95",
            ),
            render_rows(args.frames),
            label_columns=1,
        )
        rows = []
        for backend in backends:
            stderr.print(f"live: {backend}")
            rows += live_row(backend, args.approvals, args.pace_s)
        print_table(
            f"Approval -> outbox -> display stage -> frame live (one every {args.pace_s:g} s)",
            ("backend", "screen", "n", "p50 ms", "p95 ms", "max ms"),
            rows,
            label_columns=2,
            notes=[
                "folder: current.png written atomically by the screen's player",
                "kiosk: the frame's PNG fetched by a client long-polling the kiosk app",
            ],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
