"""Where stopline keeps its data and how its stages talk: database, evidence, event bus."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from pipeline.config.base import Model


class StorageConfig(Model):
    database_url: str = Field(
        "sqlite:///stopline-data/stopline.db",
        description="SQLAlchemy URL: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
        pattern=r"^(sqlite|postgresql(\+psycopg)?)://",
    )
    evidence_dir: Path = Field(
        Path("stopline-data/evidence"),
        description="Directory of the content-addressed evidence store (files named by SHA-256)",
    )
    signing_key_path: Path = Field(
        Path("stopline-data/keys/evidence-ed25519.pem"),
        description="Ed25519 private key (PEM) that signs evidence manifests; made if missing",
    )
    audit_checkpoint_dir: Path = Field(
        Path("stopline-data/audit-checkpoints"),
        description=(
            "Folder of signed audit-chain head checkpoints (`stopline audit checkpoint`; "
            "`stopline run` writes one with each retention pass): keep it where the "
            "database's users cannot write"
        ),
    )
    trusted_public_keys: list[str] = Field(
        default_factory=list,
        description=(
            "Ed25519 public keys (base64, raw 32 bytes) whose manifest and audit checkpoint "
            "signatures `stopline evidence verify --config` and `stopline audit verify` accept "
            "besides the signing key's own: the keys of earlier rotations"
        ),
    )


class BusConfig(Model):
    kind: Literal["memory", "kafka"] = Field(
        "memory", description="memory: in-process (embedded default); kafka: a Kafka cluster"
    )
    bootstrap_servers: str | None = Field(
        None, description="Kafka bootstrap servers 'host:port[,host:port]', needed for kafka"
    )
    client_id: str = Field("stopline", description="Client id reported to the broker")
    max_attempts: int = Field(
        3, ge=1, le=100, description="Handler tries (count) before a message is dead-lettered"
    )
