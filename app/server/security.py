"""Passwords (scrypt) and device tokens (random, stored as hashes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt parameters: n=2**14, r=8 (16 MiB, ~50 ms here) — OWASP's minimum is n=2**17 with
# r=8 or an equivalent memory/time trade-off; 2**14 keeps sign-in snappy on small servers.
# Stored with the hash, so they can be raised later without breaking existing passwords.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
TOKEN_BYTES = 32  # 256 bits
MIN_PASSWORD_CHARS = 8


class WeakPassword(ValueError):
    """A password that does not meet the minimum."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=_KEY_BYTES,
        maxmem=64 * 1024 * 1024,
    )
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; False for a missing or malformed hash (never an exception)."""
    if not stored:
        # Spend the same time as a real check, so that timing does not reveal the login.
        hash_password(password)
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
