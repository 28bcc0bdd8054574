"""Organizer accounts: users with roles, console sessions, API tokens and login throttling.

Roles are ordered: ``viewer`` sees, ``organizer`` also changes campaigns, waves and deliveries,
``admin`` also manages accounts and tokens. Secrets are never stored: passwords as scrypt hashes,
session ids and API tokens as SHA-256 digests of high-entropy random values.

May import the core and the platform only (no other feature area).
"""

ROLES = ("viewer", "organizer", "admin")


def role_allows(held: str, needed: str) -> bool:
    """True when the role ``held`` includes everything the role ``needed`` may do."""
    return ROLES.index(held) >= ROLES.index(needed)
