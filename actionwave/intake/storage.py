"""Storing accepted submissions: the supporter, the action, their consent to the campaign's mail
(when given) and an outbox message, written together in the caller's transaction.

Two writers of the same rows, one per store. On PostgreSQL every row of a batch goes in one
statement (a CTE over the rows as one JSON array): one round trip. SQLAlchemy Core's ``INSERT …
ON CONFLICT … RETURNING`` works on both stores, but as a statement per table in a transaction it
took the intake from 1.51 to 0.85 times the bare ``.delay()`` app's rate (medians of three
alternated rounds each; docs/performance.md), so PostgreSQL keeps the CTE and SQLite (one process,
a row at a time) takes the Core statements.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Integer,
    String,
    Uuid,
    bindparam,
    column,
    func,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import insert

from actionwave.core.models import Action, Campaign, CampaignConsent, OutboxMessage, Supporter

ACCEPTED_TOPIC = "action.accepted"


@dataclass(frozen=True)
class Submission:
    action_id: uuid.UUID
    status: str
    created: bool


def store_submissions(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Submission | None]:
    """Write rows from ``intake.submission_row`` (at most one per email) in the caller's
    transaction. Returns each row's ``Submission``, or None where the campaign is unknown or not
    active. A row whose key is already stored (a repeat, or a concurrent transaction that
    committed the same key first) gets the stored action, and queues nothing."""
    if conn.dialect.name != "postgresql":
        return _store_portably(conn, rows)
    numbered = [{**row, "n": n} for n, row in enumerate(rows)]
    found = conn.execute(SUBMIT_SQL, {"rows": json.dumps(numbered), "topic": ACCEPTED_TOPIC}).all()
    results: list[Submission | None] = [None] * len(rows)
    racing: dict[str, int] = {}
    for n, campaign_id, inserted, existing_id, existing_status in found:
        if campaign_id is None:
            continue
        if inserted is not None:
            results[n] = Submission(inserted, "accepted", created=True)
        elif existing_id is not None:
            results[n] = Submission(existing_id, existing_status, created=False)
        else:  # a concurrent transaction committed the same key after this statement began
            racing[rows[n]["key"]] = n
    if racing:
        for key, action_id, status in conn.execute(
            select(Action.idempotency_key, Action.id, Action.status)
            .where(Action.idempotency_key.in_(racing))
        ):
            results[racing[key]] = Submission(action_id, status, created=False)
    return results


# PostgreSQL: every row of a batch in one statement, one round trip and one commit
# (``actionwave.intake.group_commit``; bench/intake.py). Rows arrive as one JSON array.
SUBMIT_SQL = text("""
WITH i AS (
  SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS t(
    n int, slug text, id uuid, key text, email text, first_name text, last_name text, zip text,
    address text, city text, state text, locale text, consent boolean, message text,
    ip_hash text, details jsonb, now timestamptz, consent_source text, consent_text text)),
c AS (SELECT i.n, campaigns.id FROM i JOIN campaigns ON campaigns.slug = i.slug
      AND campaigns.status = 'active'),
s AS (
  INSERT INTO supporters (email, first_name, last_name, zip, address, city, state, locale,
                          created_at, updated_at)
  SELECT i.email, i.first_name, i.last_name, i.zip, i.address, i.city, i.state, i.locale,
         i.now, i.now FROM i JOIN c ON c.n = i.n
  ON CONFLICT (email) DO UPDATE SET
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, zip = EXCLUDED.zip,
    address = COALESCE(EXCLUDED.address, supporters.address),
    city = COALESCE(EXCLUDED.city, supporters.city),
    state = COALESCE(EXCLUDED.state, supporters.state),
    locale = EXCLUDED.locale, updated_at = EXCLUDED.updated_at
  RETURNING id, email),
a AS (
  INSERT INTO actions (id, campaign_id, supporter_id, status, idempotency_key, message, locale,
                       details, ip_hash, created_at, updated_at)
  SELECT i.id, c.id, s.id, 'accepted', i.key, i.message, i.locale, i.details, i.ip_hash,
         i.now, i.now
  FROM i JOIN c ON c.n = i.n JOIN s ON s.email = i.email
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, created_at),
o AS (INSERT INTO outbox (topic, ref, created_at) SELECT :topic, a.id::text, a.created_at FROM a),
k AS (
  INSERT INTO campaign_consents (campaign_id, supporter_id, action_id, source, text, locale,
                                 given_at)
  SELECT c.id, s.id, a.id, i.consent_source, i.consent_text, i.locale, i.now
  FROM i JOIN c ON c.n = i.n JOIN s ON s.email = i.email LEFT JOIN a ON a.id = i.id
  WHERE i.consent
  ON CONFLICT (campaign_id, supporter_id) DO NOTHING)
SELECT i.n, c.id, a.id,
  -- scalar subqueries: one index probe per row (a join let the planner scan every action)
  (SELECT id FROM actions e WHERE a.id IS NULL AND e.idempotency_key = i.key),
  (SELECT status FROM actions e WHERE a.id IS NULL AND e.idempotency_key = i.key)
FROM i LEFT JOIN c ON c.n = i.n LEFT JOIN a ON a.id = i.id
""").columns(column("n", Integer), column("campaign_id", Integer), column("inserted", Uuid),
             column("existing_id", Uuid), column("existing_status", String))


def _store_portably(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Submission | None]:
    """``store_submissions`` on SQLite: a statement per table for every row (``INSERT … ON
    CONFLICT … RETURNING``, SQLite 3.35 or later)."""
    writes = _sqlite_writes()
    slugs = list({row["slug"] for row in rows})
    campaigns = dict(conn.execute(writes["campaigns"], {"slugs": slugs}).all())
    live = [{**row, "id": uuid.UUID(row["id"]), "now": datetime.fromisoformat(row["now"]),
             "campaign_id": campaigns[row["slug"]]} for row in rows if row["slug"] in campaigns]
    if not live:
        return [None] * len(rows)
    supporters = dict(conn.execute(writes["supporters"], [{
        "email": r["email"], "first_name": r["first_name"], "last_name": r["last_name"],
        "zip": r["zip"], "address": r["address"] or None, "city": r["city"] or None,
        "state": r["state"] or None, "locale": r["locale"], "created_at": r["now"],
        "updated_at": r["now"]} for r in live]).all())
    inserted = set(conn.scalars(writes["actions"], [{
        "id": r["id"], "campaign_id": r["campaign_id"], "supporter_id": supporters[r["email"]],
        "status": "accepted", "idempotency_key": r["key"], "message": r["message"],
        "locale": r["locale"], "details": r["details"], "ip_hash": r["ip_hash"],
        "created_at": r["now"], "updated_at": r["now"]} for r in live]))
    if inserted:
        conn.execute(writes["outbox"], [{"topic": ACCEPTED_TOPIC, "ref": str(r["id"]),
                                         "created_at": r["now"]}
                                        for r in live if r["id"] in inserted])
    consents = [{"campaign_id": r["campaign_id"], "supporter_id": supporters[r["email"]],
                 "action_id": r["id"] if r["id"] in inserted else None,
                 "source": r["consent_source"], "text": r["consent_text"],
                 "locale": r["locale"], "given_at": r["now"]} for r in live if r["consent"]]
    if consents:
        conn.execute(writes["consents"], consents)
    repeats = [r["key"] for r in live if r["id"] not in inserted]
    stored = {key: Submission(action_id, status, created=False) for key, action_id, status in (
        conn.execute(writes["repeats"], {"keys": repeats}) if repeats else ())}
    fresh = {str(r["id"]): Submission(r["id"], "accepted", created=True) for r in live
             if r["id"] in inserted}
    return [fresh.get(row["id"]) or stored.get(row["key"]) for row in rows]


@cache
def _sqlite_writes() -> dict[str, Executable]:
    """``store_submissions``' statements, built once: building them leaves cyclic garbage
    (``web/routing.py``). Rows go in as executemany parameters, sent as one statement."""
    supporters = Supporter.__table__
    upsert = insert(supporters)
    new = upsert.excluded
    return {
        "campaigns": select(Campaign.slug, Campaign.id).where(
            Campaign.slug.in_(bindparam("slugs", expanding=True)), Campaign.status == "active"),
        # The latest submission's profile; an address, city or state left out keeps the old one.
        "supporters": upsert.on_conflict_do_update(
            index_elements=["email"], set_={
                "first_name": new.first_name, "last_name": new.last_name, "zip": new.zip,
                "address": func.coalesce(new.address, supporters.c.address),
                "city": func.coalesce(new.city, supporters.c.city),
                "state": func.coalesce(new.state, supporters.c.state),
                "locale": new.locale, "updated_at": new.updated_at,
            }).returning(supporters.c.email, supporters.c.id),
        "actions": insert(Action.__table__)
        .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(Action.id),
        "outbox": OutboxMessage.__table__.insert(),
        "consents": insert(CampaignConsent.__table__)
        .on_conflict_do_nothing(index_elements=["campaign_id", "supporter_id"]),
        "repeats": select(Action.idempotency_key, Action.id, Action.status)
        .where(Action.idempotency_key.in_(bindparam("keys", expanding=True))),
    }
