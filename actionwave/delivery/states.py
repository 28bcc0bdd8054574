"""The delivery state machine, in one place.

::

    pending --claim--> sending --accepted--> sent
                          |  \\--refused for good--> failed
                          |  \\--out of attempts--> dead --organizer retry--> pending
                          \\--retry later / lease expired and provider never saw it--> pending

A ``sending`` row always has a lease (``lease_owner``, ``lease_expires_at``). A lease that expires
means the owner died or hung, and its request may have left: the row is *in doubt* and is settled
by asking the provider (``actionwave.delivery.recovery``), never by sending again blindly.

Every change of state goes through ``move``: a conditional UPDATE that only touches rows still in
the expected state, so two workers can never both win the same row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, update

from actionwave.core.models import Delivery

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
DEAD = "dead"

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({SENDING}),
    SENDING: frozenset({SENT, PENDING, FAILED, DEAD}),
    DEAD: frozenset({PENDING}),
    SENT: frozenset(),
    FAILED: frozenset(),
}

# Lease owner of a row in doubt (its owner died, or its request timed out): only the sweep in
# ``actionwave.delivery.recovery`` touches such rows, after asking the provider about them.
IN_DOUBT_OWNER = "in-doubt:"

deliveries = Delivery.__table__


class IllegalTransition(ValueError):
    """Code asked for a state change the machine does not allow (a bug, never user input)."""


def move(source: str, target: str, *where: ColumnElement[bool], **values: Any) -> Update:
    """An UPDATE moving rows from ``source`` to ``target``, touching only rows still in ``source``.

    ``where`` narrows the rows (ids, lease owner); ``values`` sets other columns. Leaving
    ``sending`` clears the lease unless ``values`` says otherwise. Raises ``IllegalTransition``.
    """
    if target not in TRANSITIONS[source]:
        raise IllegalTransition(f"{source} -> {target}")
    changes: dict[str, Any] = {"state": target, "updated_at": datetime.now(UTC)}
    if source == SENDING:
        changes.update(lease_owner=None, lease_expires_at=None)
    changes.update(values)
    return update(deliveries).where(deliveries.c.state == source, *where).values(**changes)
