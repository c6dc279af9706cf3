"""Password hashing for console users: Argon2id (argon2-cffi's RFC 9106 low-memory profile).

Argon2id is memory-hard, so a stolen user table cannot be brute-forced on GPUs at the rate a
fast hash allows; the parameters live in the hash string, so raising them later re-hashes each
user at their next login (`needs_rehash`) without a migration.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
"""NIST SP 800-63B asks for at least 8; officers' accounts reach personal data, so 12."""

_HASHER = PasswordHasher()


class WeakPassword(ValueError):
    """A password the console refuses to store."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password too short: at least {MIN_LENGTH} characters")
    if password.strip() != password:
        raise WeakPassword("password starts or ends with white space (a copy-paste slip?)")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """False for a wrong password and for a hash that is not Argon2 (e.g. a no-login actor)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
