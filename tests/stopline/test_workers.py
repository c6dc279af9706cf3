"""The same stage code as separate worker processes, on the real broker and real PostgreSQL."""

import signal
import subprocess
import time
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from pipeline.config import load_config
from stopline.demo.frames import render
from tests.cli import COMMAND, stopline
from tests.demo_site import demo_data

DEADLINE_S = 300
"""A safety net for a busy machine: the test waits for the rows, not for this long."""


def worker(stage: str, config: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, "worker", stage, "--config", str(config)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_workers_on_kafka_and_postgres(
    tmp_path: Path, kafka_bootstrap: str, postgres_database_url: str
) -> None:
    data = demo_data()
    data["bus"] = {"kind": "kafka", "bootstrap_servers": kafka_bootstrap, "max_attempts": 3}
    data["storage"]["database_url"] = postgres_database_url
    # Nobody is registered here; the display worker is to show both cases all the same.
    data["display"]["privacy"] = {"unidentified": "shown"}
    data.setdefault("portal", {})["media"] = {"sample_fps": 1.0}  # a dozen searches a clip
    config = tmp_path / "workers.yaml"
    config.write_text(yaml.safe_dump(data))
    render(load_config(config).cameras[0], tmp_path)

    stages = ("identify", "review-policy", "relay", "notify", "display", "portal")
    consumers = [worker(s, config, tmp_path) for s in stages]
    try:
        detect = stopline(
            "worker", "detect", "--config", str(config), cwd=tmp_path, timeout_s=DEADLINE_S
        )
        assert detect.returncode == 0, detect.stdout + detect.stderr
        engine = create_engine(postgres_database_url)
        rows: list = []
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT c.status, c.decided_by, v.kind FROM citations c "
                        "JOIN violations v ON v.id = c.violation_id ORDER BY v.kind"
                    )
                ).all()
                published = conn.execute(
                    text(
                        "SELECT count(*) FROM event_outbox "
                        "WHERE topic = 'citations.approved' AND published_at IS NOT NULL"
                    )
                ).scalar()
                notices = conn.execute(
                    text("SELECT status, last_error FROM sms_outbox ORDER BY id")
                ).all()
                posted = conn.execute(text("SELECT count(*) FROM billboard_items")).scalar()
                media = conn.execute(
                    text("SELECT count(*) FROM citations WHERE citizen_files IS NOT NULL")
                ).scalar()
            displayed = all(r.status == "displayed" for r in rows)
            done = published == 2 and len(notices) == 2 and posted == 4 and media == 2
            if len(rows) == 2 and displayed and done:
                break
            time.sleep(0.5)
        assert published == 2, "both approvals relayed from the outbox to Kafka"
        # The notify worker took both: nobody is registered in this run, so nothing is sent.
        assert [n.status for n in notices] == ["unsendable", "unsendable"]
        assert all("nobody identified" in n.last_error for n in notices)
        # The display worker put both on the crossing's two screens, and wrote their frames.
        assert [(r.status, r.decided_by, r.kind) for r in rows] == [
            ("displayed", "demo-reviewer", "jaywalk"),
            ("displayed", "demo-reviewer", "red_light"),
        ]
        assert posted == 4
        assert media == 2, "the portal worker blurred both cases' key frames and clips"
        for screen in load_config(config).display.screens:
            folder = tmp_path / screen.output_dir / screen.id / "playlist"
            deadline = time.monotonic() + 30
            while len(list(folder.glob("*.png"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(list(folder.glob("*.png"))) == 2, screen.id
        with engine.connect() as conn:
            actions = conn.execute(text("SELECT action, actor FROM audit_log ORDER BY id")).all()
        assert ("citation.transition", "demo-reviewer") in [tuple(a) for a in actions]
        engine.dispose()
    finally:
        for proc in consumers:
            proc.send_signal(signal.SIGTERM)
        for proc in consumers:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
