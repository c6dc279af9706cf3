"""The PDF report of a court bundle: what a judge reads, drawn from the same records the bundle
carries (so each statement can be checked against a signed file).

Page 1 is the case: the offence as every other screen words it, the signal facts and
timeline, identification, the reviewer's decision and the status history. Then the key frames
as recorded (offender box and data bar burnt in by the camera), with the camera's stop and entry
lines drawn over them, scaled from analysed-frame to recorded pixels. Last, the chain of
custody from the audit log and the camera's set-up. The lines and set-up are those the detect
stage recorded in the signed manifest with the evidence (`camera_setup`), so a line moved
since is not drawn over an old case; only evidence older than that record falls back on the
configuration of today, and the report says which it drew.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from PIL import Image, ImageDraw

from display.fonts import find_fonts
from pipeline.config import CameraConfig, Geometry
from pipeline.offences import Offence
from pipeline.setup_lines import Setup, camera_setup, drawn_lines
from pipeline.store.models import Citation, Violation

STOP = (255, 210, 0)
ENTRY = (0, 200, 255)
LINE_PX = 4
TEXT_PT = 9


@dataclass(frozen=True)
class Report:
    citation: Citation
    violation: Violation
    offence: Offence
    camera: CameraConfig | None
    manifest: dict[str, Any]
    files: dict[str, bytes]
    timeline: list[dict[str, Any]]
    history: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    chain_ok: bool
    timezone: str
    exported: datetime
    public_key: str
    font_path: Path | None


def with_lines(image: Image.Image, setup: Setup | None, facts: dict[str, Any]) -> Image.Image:
    """The key frame with the camera's stop lines (yellow) and entry lines (blue) drawn."""
    if setup is None:
        return image
    drawn = image.convert("RGB")
    draw = ImageDraw.Draw(drawn)
    for line in drawn_lines(setup, facts, image.size):
        colour = STOP if line.kind == "stop" else ENTRY
        draw.line(line.points, fill=colour, width=LINE_PX)
        draw.text((line.points[0][0] + 4, line.points[0][1] - 14), line.id, fill=colour)
    return drawn


def _setup_rows(setup: Setup) -> list[tuple[str, str]]:
    geometry = Geometry.model_validate(setup.record["geometry"])
    ground = setup.record["ground_calibration"]
    return [
        ("Set-up", setup.origin),
        ("Signal source", setup.record["signal_source"]),
        ("Analysed at", f"{setup.record['analysis_fps']} frames per second"),
        *(
            (f"Stop line {s.id}", f"{s.points} moving {s.direction}, approach {s.approach}")
            for s in geometry.stop_lines
        ),
        *(
            (f"Entry line {e.id}", f"{e.points} (confirms {e.stop_line})")
            for e in geometry.entry_lines
        ),
        *((f"Crosswalk {c.id}", f"{c.polygon}") for c in geometry.crosswalks),
        (
            "Ground calibration",
            "none: no speed is stated"
            if ground is None
            else f"image {ground['image_points']} = road {ground['ground_points_m']} m; "
            f"surveyed: {ground['surveyed']}",
        ),
    ]


class _Pdf(FPDF):
    def __init__(self, font_path: Path | None, citation_id: str) -> None:
        super().__init__(format="A4")
        fonts = find_fonts(font_path)
        regular, bold = fonts.path("regular"), fonts.path("bold")
        self.add_font("cjk", "", str(regular[0]), collection_font_number=regular[1])
        self.add_font("cjk", "B", str(bold[0]), collection_font_number=bold[1])
        self.citation_id = citation_id
        self.set_auto_page_break(True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=7)
        self.cell(
            0, 5, f"stopline evidence report · citation {self.citation_id} · page {self.page_no()}"
        )

    def heading(self, text: str) -> None:
        self.set_font("cjk", "B", 12)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("cjk", size=TEXT_PT)

    def rows(self, rows: list[tuple[str, str]], label_mm: float = 48) -> None:
        for label, value in rows:
            self.set_font("cjk", "B", TEXT_PT)
            self.multi_cell(label_mm, 5, label, new_x="RIGHT", new_y="TOP")
            self.set_font("cjk", size=TEXT_PT)
            self.multi_cell(0, 5, value or "—", new_x="LMARGIN", new_y="NEXT")


def _local(value: datetime, zone: str) -> str:
    local, utc = value.astimezone(ZoneInfo(zone)), value.astimezone(ZoneInfo("UTC"))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({utc:%H:%M:%S} UTC)"


def report_pdf(report: Report) -> bytes:
    citation, violation, offence = report.citation, report.violation, report.offence
    pdf = _Pdf(report.font_path, citation.id)
    pdf.add_page()
    pdf.set_font("cjk", "B", 16)
    pdf.cell(
        0, 10, f"{offence.title('en')} · {offence.title('zh-CN')}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=TEXT_PT)
    pdf.multi_cell(
        0,
        5,
        f"{offence.sentence('en')}\n{offence.sentence('zh-CN')}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.heading("Case")
    camera = report.camera
    setup = camera_setup(
        None if camera is None else camera.setup_record(), report.manifest.get("facts", {})
    )
    pdf.rows(
        [
            ("Citation", citation.id),
            ("Notice number", citation.notice_number or ""),
            ("Violation", violation.id),
            ("When", _local(violation.occurred_at, report.timezone)),
            ("Where", camera.location if camera else citation.camera_id),
            ("Camera", citation.camera_id),
            ("Road user", f"{violation.object_class}, track {violation.track_id}"),
            (
                "Speed",
                f"{violation.event['speed_kmh']:.0f} km/h, from the camera's ground calibration"
                if violation.event.get("speed_kmh") is not None
                else "not stated: the camera has no ground calibration",
            ),
            *offence.facts("en")[2:],
            (
                "Plate read",
                f"{citation.plate_text or '—'} (confidence {citation.plate_confidence})",
            ),
            ("Status", citation.status),
        ]
    )
    pdf.ln(2)
    pdf.heading("Signal timeline")
    pdf.rows(
        [
            (
                row["phase"],
                _local(row["at"], report.timezone)
                + (" (at the latest)" if row.get("bound") else ""),
            )
            for row in report.timeline
        ]
        or [("Signal", "no signal applies to this offence")]
    )
    pdf.ln(2)
    pdf.heading("Review")
    pdf.rows(
        [
            ("Decided by", citation.decided_by or ""),
            ("Decision reason", citation.decision_reason or ""),
            ("Second review", citation.second_reviewed_by or "not required"),
        ]
        + [
            (f"{h['at'][:19]}Z", f"{h['from'] or 'created'} → {h['to']} by {h['actor']}")
            for h in report.history
        ]
    )
    facts = report.manifest.get("facts", {})
    frames = [f for f in report.manifest["files"] if f["role"].startswith("key_frame:")]
    for entry in frames:
        pdf.add_page()
        pdf.heading(f"Key frame: {entry['role'].removeprefix('key_frame:').replace('_', ' ')}")
        image = with_lines(Image.open(io.BytesIO(report.files[entry["sha256"]])), setup, facts)
        pdf.image(image, w=pdf.epw)
        pdf.set_font("cjk", size=7)
        pdf.multi_cell(
            0,
            4,
            f"As recorded: SHA-256 {entry['sha256']} (files/{entry['sha256']}). Drawn over it "
            "for this report: stop lines in yellow, entry lines in blue, from the camera's "
            f"set-up ({setup.origin if setup else 'not known'}).",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.add_page()
    pdf.heading("Chain of custody (audit log)")
    pdf.set_font("cjk", size=7)
    for row in report.custody:
        pdf.multi_cell(
            0,
            3.6,
            f"#{row['id']} {row['at'][:19]}Z  {row['actor']}  {row['action']}  "
            f"row {row['row_hash'][:16]}…",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font("cjk", size=TEXT_PT)
    verdict = "intact" if report.chain_ok else "BROKEN: see custody.json"
    pdf.multi_cell(
        0,
        5,
        f"The audit chain verified {verdict} at export, {report.exported:%Y-%m-%d %H:%M:%S} UTC.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.heading("Camera set-up")
    if setup is not None:
        pdf.rows(_setup_rows(setup))
    else:
        pdf.rows([("Camera", "no longer in the deployment's configuration")])
    pdf.ln(2)
    pdf.heading("Verifying this bundle")
    pdf.multi_cell(
        0,
        5,
        "Unpack the zip and run: python verify.py --public-key <the deployment's published key>. "
        f"This bundle is signed by the Ed25519 key {report.public_key}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
