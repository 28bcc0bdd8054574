"""Migration 0011 on existing data, on both stores: the consent flag becomes consent records for
the campaigns each supporter acted on, deliveries get their campaign, and states their ZIP's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from actionwave.platform.migrate import upgrade
from tests.conftest import _admin_engine

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[str]:
    """An empty database of each kind, migrated to 0008 (before consent records)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
    else:
        name = f"aw_consent_{uuid.uuid4().hex[:8]}"
        admin("CREATE DATABASE", name)
        url = sa.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url, "0008")
    yield url
    if request.param == "postgresql":
        admin("DROP DATABASE IF EXISTS", name, " WITH (FORCE)")


def admin(command: str, name: str, options: str = "") -> None:
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'{command} "{name}"{options}')
    engine.dispose()


def seed(url: str) -> None:
    """Two campaigns; a consenting supporter who acted on both, one who acted on A without
    consent, one consenting who never acted; a delivery of each kind."""
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    t = tables.tables
    stamp = {"created_at": T0, "updated_at": T0}

    def uid(ident: uuid.UUID) -> object:  # reflected, SQLite's is CHAR(32): as the models store it
        return ident if engine.dialect.name == "postgresql" else ident.hex

    with engine.begin() as conn:
        conn.execute(t["legislator_snapshots"].insert(), [{"id": 1, "source": "test",
                                                           "loaded_at": T0, "summary": {}}])
        conn.execute(t["legislator_snapshot_current"].insert(), [{"id": 1, "snapshot_id": 1}])
        conn.execute(t["zip_districts"].insert(), [
            {"snapshot_id": 1, "zcta": "94110", "state": "CA", "district": 11},
            {"snapshot_id": 1, "zcta": "30165", "state": "GA", "district": 14},
            {"snapshot_id": 1, "zcta": "30165", "state": "AL", "district": 3}])
        conn.execute(t["campaigns"].insert(), [
            {"id": n, "slug": slug, "title": slug, "target_chambers": ["house"],
             "status": "active", "content": {}, **stamp} for n, slug in ((1, "a"), (2, "b"))])
        conn.execute(t["supporters"].insert(), [
            {"id": n, "email": f"{name}@example.org", "first_name": name, "last_name": "L",
             "zip": zip_code, "state": None, "locale": locale, "consent": consent, **stamp}
            for n, name, zip_code, locale, consent in (
                (1, "both", "94110", "zh-Hant", True), (2, "silent", "30165", "en", False),
                (3, "idle", "94110", "en", True))])
        actions = {("both", 1): uuid.uuid4(), ("both", 2): uuid.uuid4(),
                   ("silent", 1): uuid.uuid4()}
        conn.execute(t["actions"].insert(), [
            {"id": uid(ident), "campaign_id": campaign, "supporter_id": 1 if name == "both" else 2,
             "status": "done", "idempotency_key": ident.hex, "locale": "en", "details": {},
             "created_at": T0 + timedelta(hours=campaign), "updated_at": T0}
            for (name, campaign), ident in actions.items()])
        conn.execute(t["waves"].insert(), [{"id": 7, "campaign_id": 2, "name": "w",
                                            "status": "done", "template_name": "default",
                                            "segment": {}, "trigger": "manual", "total": 1,
                                            **stamp}])
        conn.execute(t["reminders"].insert(), [{"id": 5, "supporter_id": 1, "campaign_id": 2,
                                                "kind": "ask_to_call", "key": "", "due_at": T0,
                                                "created_at": T0}])
        delivery = {"channel": "email", "state": "sent", "attempts": 1, "next_attempt_at": T0,
                    "payload": {}, "action_id": None, "wave_id": None, "supporter_id": None,
                    **stamp}
        conn.execute(t["deliveries"].insert(), [
            {**delivery, "action_id": uid(actions[("both", 1)]),
             "idempotency_key": "confirmation:x"},
            {**delivery, "wave_id": 7, "supporter_id": 1, "idempotency_key": "wave:7:1"},
            {**delivery, "supporter_id": 1, "idempotency_key": "reminder:5"},
            {**delivery, "idempotency_key": "orphan"}])
    engine.dispose()


def test_existing_consent_becomes_records_of_the_campaigns_acted_on(database: str) -> None:
    seed(database)
    upgrade(database)
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        consents = conn.execute(sa.text(
            "SELECT supporter_id, campaign_id, source, locale, text, given_at, withdrawn_at"
            " FROM campaign_consents ORDER BY campaign_id")).all()
        deliveries = dict(conn.execute(sa.text(
            "SELECT idempotency_key, campaign_id FROM deliveries")).all())
        states = dict(conn.execute(sa.text("SELECT email, state FROM supporters")).all())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("supporters")}
    engine.dispose()
    assert [(s, c, source, locale) for s, c, source, locale, *_ in consents] == [
        (1, 1, "migrated", "zh-Hant"), (1, 2, "migrated", "zh-Hant")]
    label = "請通知我這項法案的最新進展（可隨時取消訂閱）。"  # the form's label, in their language
    assert all(text == label for *_, text, _g, _w in consents)
    given = [g if isinstance(g, datetime) else datetime.fromisoformat(g) for *_, g, _w in consents]
    assert [g.replace(tzinfo=UTC) for g in given] == [T0 + timedelta(hours=1),
                                                      T0 + timedelta(hours=2)]
    assert deliveries == {"confirmation:x": 1, "wave:7:1": 2, "reminder:5": 2, "orphan": None}
    assert states == {"both@example.org": "CA", "idle@example.org": "CA",
                      "silent@example.org": None}  # GA or AL: not a guess
    assert "consent" not in columns
