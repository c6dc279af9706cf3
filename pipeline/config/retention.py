"""How long evidence and personal data are kept."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model


class RetentionConfig(Model):
    rejected_evidence_days: int = Field(
        30, ge=0, description="Days evidence of rejected citations is kept"
    )
    closed_evidence_days: int = Field(
        365, ge=0, description="Days evidence of closed (paid, dismissed) citations is kept"
    )
    uncited_face_hours: int = Field(
        24, ge=0, description="Hours face crops of people who were not cited are kept"
    )
    run_every_h: float = Field(24.0, gt=0, description="Hours between purge runs inside `run`")
