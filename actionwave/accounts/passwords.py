"""Password hashing with scrypt (memory-hard), a per-password salt and self-describing hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# n=2**15, r=8: 32 MiB and roughly 50-100 ms per hash, the interactive-login level in RFC 7914.
N, R, P = 2**15, 8, 1
KEY_BYTES = 32
MIN_LENGTH = 12
SCHEME = "scrypt"


class WeakPassword(ValueError):
    """The password is too short to protect an organizer account."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * n * r + 1024 * 1024)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` for ``password``; raises ``WeakPassword`` below 12 characters."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"use at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a mismatch or a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(derived, _unb64(key))


def burn_time() -> None:
    """Spend one hash's time, so an unknown account answers as slowly as a wrong password."""
    _derive("not a password", b"0" * 16, N, R, P)
