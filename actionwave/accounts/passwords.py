"""Password hashing: Werkzeug's scrypt (``werkzeug.security``), which salts each password and
writes self-describing hashes (``scrypt:32768:8:1$salt$key``). Hashes written before, in this
module's own ``scrypt$n$r$p$salt$key`` form, still verify."""

from __future__ import annotations

import base64
import hashlib
import hmac

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
METHOD = "scrypt"  # Werkzeug's default cost: n=2**15, r=8, p=1 (32 MiB per hash)
LEGACY_PREFIX = "scrypt$"


class WeakPassword(ValueError):
    """The password is too short to protect an organizer account."""


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``; raises ``WeakPassword`` below 12 characters."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"use at least {MIN_LENGTH} characters")
    return generate_password_hash(password, method=METHOD)


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (either form); False for a mismatch or a
    malformed hash."""
    if stored.startswith(LEGACY_PREFIX):
        return _verify_legacy(password, stored)
    try:
        return check_password_hash(stored, password)
    except ValueError:
        return False


def _verify_legacy(password: str, stored: str) -> bool:
    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    try:
        _, n, r, p, salt, key = stored.split("$")
        expected = unb64(key)
        derived = hashlib.scrypt(password.encode(), salt=unb64(salt), n=int(n), r=int(r),
                                 p=int(p), dklen=32,
                                 maxmem=256 * int(n) * int(r) + 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(derived, expected)


def burn_time() -> None:
    """Spend one hash's time, so an unknown account answers as slowly as a wrong password."""
    generate_password_hash("not a password", method=METHOD)
