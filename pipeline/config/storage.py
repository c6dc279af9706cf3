"""Where stopline keeps its data and how its stages talk: database, evidence, event bus."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

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
    pin_key_path: Path = Field(
        Path("stopline-data/keys/notice-pin.key"),
        description=(
            "Secret (hex) from which each notice's PIN is derived; the notifier and the portal "
            "read the same file; made if missing"
        ),
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
    instance_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description=(
            "This process's static member id in its Kafka consumer groups: a restarted worker "
            "takes its own place back at once, where a new member waited for the dead one's "
            "rebalance. Give each replica of a stage its own; empty: the host name"
        ),
    )
    max_attempts: int = Field(
        3, ge=1, le=100, description="Handler tries (count) before a message is dead-lettered"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description=(
            "How Kafka connections are secured: PLAINTEXT (a closed network only), SSL (TLS), "
            "SASL_SSL (TLS and a login) or SASL_PLAINTEXT"
        ),
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL login mechanism; needed for SASL_* protocols"
    )
    sasl_username: str | None = Field(None, description="SASL user name; needed for SASL_*")
    sasl_password_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description=(
            "Name of the environment variable that holds the SASL password (the password "
            "itself never sits in a config file); needed for SASL_*"
        ),
    )
    ssl_cafile: Path | None = Field(
        None, description="CA bundle (PEM) that signed the brokers' certificates; empty: system CAs"
    )
    ssl_certfile: Path | None = Field(
        None, description="Client certificate (PEM) for brokers that require one (mutual TLS)"
    )
    ssl_keyfile: Path | None = Field(None, description="Private key (PEM) of ssl_certfile")

    @model_validator(mode="after")
    def _security_is_complete(self) -> BusConfig:
        sasl = {"sasl_mechanism", "sasl_username", "sasl_password_env"}
        if self.security_protocol.startswith("SASL_"):
            missing = sorted(k for k in sasl if getattr(self, k) is None)
            if missing:
                raise ValueError(f"{self.security_protocol} needs {', '.join(missing)}")
        elif given := sorted(k for k in sasl if getattr(self, k) is not None):
            raise ValueError(
                f"{', '.join(given)} need security_protocol SASL_SSL or SASL_PLAINTEXT"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together")
        return self
