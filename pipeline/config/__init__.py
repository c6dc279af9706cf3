"""The one YAML config of a stopline deployment, one module per section.

Every model forbids unknown keys and describes every field, because a misspelt key in an
enforcement system silently falls back to a default that can cite the wrong people. Units live in
field names (`grace_s`, `min_area_px`). `load_config` turns every problem into one line naming the
YAML path, what was found and what was expected, so a bad file never ends in a traceback.
Everything a caller needs is importable from `pipeline.config` itself.
"""

from pipeline.config.base import Coordinate, Identifier, Model, Phase, Point
from pipeline.config.cameras import (
    LIVE_SCHEMES,
    Anchor,
    CameraConfig,
    Crosswalk,
    EntryLine,
    Geometry,
    GroundCalibration,
    StopLine,
    StreamOptions,
    Zone,
    is_live,
)
from pipeline.config.detection import (
    ALL_CLASSES,
    YOLO_STRIDE,
    ClassName,
    DetectorBackend,
    DetectorSpec,
    TrackingConfig,
)
from pipeline.config.display import DisplayConfig, PrivacyPolicy, ScreenConfig
from pipeline.config.errors import ConfigError, Problem, yaml_path
from pipeline.config.identification import (
    FaceIndex,
    FacesConfig,
    IdentificationConfig,
    PlateEngine,
    PlatesConfig,
)
from pipeline.config.loading import load_config, parse_config, reference
from pipeline.config.notifier import NotifierConfig
from pipeline.config.portal import PaymentsConfig, PortalConfig, PortalMediaConfig
from pipeline.config.retention import RetentionConfig
from pipeline.config.review import ReviewConfig
from pipeline.config.root import StoplineConfig
from pipeline.config.rules import JaywalkRule, RedLightRule, RulesConfig
from pipeline.config.server import ServerLimits
from pipeline.config.signals import (
    FixedPlanPhase,
    FlickerPolicy,
    Lamp,
    LampColour,
    SignalHead,
    SignalSource,
)
from pipeline.config.storage import BusConfig, StorageConfig

__all__ = [
    "ALL_CLASSES",
    "LIVE_SCHEMES",
    "YOLO_STRIDE",
    "Anchor",
    "BusConfig",
    "CameraConfig",
    "ClassName",
    "ConfigError",
    "Coordinate",
    "Crosswalk",
    "DetectorBackend",
    "DetectorSpec",
    "DisplayConfig",
    "EntryLine",
    "FaceIndex",
    "FacesConfig",
    "FixedPlanPhase",
    "FlickerPolicy",
    "Geometry",
    "GroundCalibration",
    "IdentificationConfig",
    "Identifier",
    "JaywalkRule",
    "Lamp",
    "LampColour",
    "Model",
    "NotifierConfig",
    "PaymentsConfig",
    "Phase",
    "PlateEngine",
    "PlatesConfig",
    "Point",
    "PortalConfig",
    "PortalMediaConfig",
    "PrivacyPolicy",
    "Problem",
    "RedLightRule",
    "RetentionConfig",
    "ReviewConfig",
    "RulesConfig",
    "ScreenConfig",
    "ServerLimits",
    "SignalHead",
    "SignalSource",
    "StopLine",
    "StoplineConfig",
    "StorageConfig",
    "StreamOptions",
    "TrackingConfig",
    "Zone",
    "is_live",
    "load_config",
    "parse_config",
    "reference",
    "yaml_path",
]
