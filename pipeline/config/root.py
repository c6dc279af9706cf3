"""A whole deployment, every section in one model."""

from __future__ import annotations

from pydantic import Field

from pipeline.config.base import Model
from pipeline.config.cameras import CameraConfig
from pipeline.config.detection import DetectorSpec, TrackingConfig
from pipeline.config.display import DisplayConfig
from pipeline.config.identification import IdentificationConfig
from pipeline.config.notifier import NotifierConfig
from pipeline.config.portal import PortalConfig
from pipeline.config.retention import RetentionConfig
from pipeline.config.review import ReviewConfig
from pipeline.config.rules import RulesConfig
from pipeline.config.storage import BusConfig, StorageConfig


class StoplineConfig(Model):
    """A whole deployment: what runs where, and the safeguards around it."""

    deployment: str = Field("stopline", description="Name of the deployment, shown in the console")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Database, evidence")
    bus: BusConfig = Field(default_factory=BusConfig, description="Event bus")
    cameras: list[CameraConfig] = Field(min_length=1, description="Cameras to analyse")
    detector: DetectorSpec = Field(
        default_factory=DetectorSpec, description="Object detector (backend, model, thresholds)"
    )
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="ByteTrack multi-object tracking"
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Violation rules")
    identification: IdentificationConfig = Field(
        default_factory=IdentificationConfig, description="Who did it"
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig, description="Police review")
    notifier: NotifierConfig = Field(default_factory=NotifierConfig, description="SMS notices")
    display: DisplayConfig = Field(default_factory=DisplayConfig, description="LED billboards")
    portal: PortalConfig = Field(
        default_factory=PortalConfig, description="Citizen portal for fined people"
    )
    retention: RetentionConfig = Field(default_factory=RetentionConfig, description="Purges")

    def camera(self, camera_id: str) -> CameraConfig | None:
        """The camera of that id today; None for one since removed from the deployment."""
        return next((c for c in self.cameras if c.id == camera_id), None)
