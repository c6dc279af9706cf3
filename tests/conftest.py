"""Shared fixtures: real services (Kafka-protocol broker, PostgreSQL) come from tests/fixtures."""

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.postgres", "tests.fixtures.browser"]
