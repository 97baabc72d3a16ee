"""Passwords (argon2id; older scrypt hashes still checked, and rehashed at the next good
sign-in) and device tokens (random, stored as hashes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id at OWASP's first recommended setting (Password Storage Cheat Sheet): 19 MiB,
# 2 iterations, 1 lane — about 25 ms here. Stored with the hash: raising them later makes
# `needs_rehash` true for older hashes, rehashed at their next good sign-in.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_LANES = 1
_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES
)
# A real hash of nothing anyone types: checked for a login that has no hash, so that the
# answer takes the time a real check takes.
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))
TOKEN_BYTES = 32  # 256 bits
MIN_PASSWORD_CHARS = 8


class WeakPassword(ValueError):
    """A password that does not meet the minimum."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; False for a missing or malformed hash (never an exception)."""
    if not stored:
        _argon2_ok(password, _DECOY)  # the same time as a real check
        return False
    if stored.startswith("scrypt$"):
        return _scrypt_ok(password, stored)
    return _argon2_ok(password, stored)


def needs_rehash(stored: str) -> bool:
    """Whether a hash that just verified should be replaced (scrypt, or argon2 parameters
    older than today's)."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _argon2_ok(password: str, stored: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
        return False


def _scrypt_ok(password: str, stored: str) -> bool:
    """An older store's hash: scrypt$n$r$p$salt$key."""
    try:
        _scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps of a token (a 256-bit random token needs no salt or slow hash)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def one_time_password() -> str:
    """A random password for a new user, printed once for the admin to hand over."""
    return secrets.token_urlsafe(12)
