"""The violation rules and their safeguards."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model


class RedLightRule(Model):
    enabled: bool = Field(True, description="Detect red-light running")
    grace_s: float = Field(0.3, ge=0, le=5, description="Seconds after red onset not cited")
    min_amber_s: float = Field(
        3.0, ge=0, le=10, description="Measured amber shorter than this (seconds) suppresses citing"
    )
    min_speed_px_s: float = Field(
        5.0, ge=0, description="Tracks slower than this (pixels/second) are treated as stopped"
    )
    turn_decision_px: float = Field(
        60.0,
        gt=0,
        description="Pixels travelled past the stop line before a turn is judged (exempt lanes)",
    )


class JaywalkRule(Model):
    enabled: bool = Field(True, description="Detect pedestrians crossing against the signal")
    dwell_s: float = Field(
        1.0, ge=0, le=30, description="Seconds a pedestrian must be in the zone before citing"
    )
    min_distance_px: float = Field(
        40.0, ge=0, description="Pixels walked into the carriageway before citing (kerb waiters)"
    )


class SuppressedEvidence(Model):
    """Evidence of crossings a safeguard kept from being cited (the console's "why not cited"
    page): each costs a clip, as a case does, so an outage of a busy approach's signal is capped.
    """

    keep: bool = Field(
        True,
        description=(
            "Record key frames and a clip of each suppressed crossing, as of a case; off, they "
            "are listed with their reason and signal only"
        ),
    )
    max_per_hour: int = Field(
        60,
        ge=1,
        description=(
            "Suppressed crossings per camera and hour of footage that get evidence; the rest "
            "that hour are listed without (a signal outage suppresses every crossing)"
        ),
    )


class RulesConfig(Model):
    red_light: RedLightRule = Field(default_factory=RedLightRule, description="Red-light rule")
    jaywalk: JaywalkRule = Field(default_factory=JaywalkRule, description="Jaywalk rule")
    suppressed_evidence: SuppressedEvidence = Field(
        default_factory=SuppressedEvidence,
        description="Evidence of crossings the safeguards kept from being cited",
    )
    min_track_age_frames: int = Field(
        3, ge=1, description="Frames a track must exist before any rule may fire on it"
    )
