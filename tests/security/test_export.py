"""Finding: the supporters' CSV export kept a database transaction open while it streamed; on
SQLite (every transaction takes the write lock) that stopped every other write until the
download ended. Now each chunk is read in a short transaction of its own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select

from actionwave.core.models import Campaign, Supporter
from actionwave.mail.consent import grant_consent
from tests.organizer_support import sqlite_services, store, store_app  # noqa: F401
from tests.test_console import sign_in

SLUG = "hketo-certification-act"


def test_another_write_goes_through_while_an_export_streams(store):  # noqa: F811
    with store.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        for n in range(3):
            supporter = Supporter(email=f"s{n}@example.org", first_name=f"S{n}", last_name="L",
                                  zip="82001", state="WY")
            session.add(supporter)
            session.flush()
            grant_consent(session, supporter.id, campaign_id, source="import")
        session.commit()
    client = store_app(store).test_client()
    sign_in(client, "organizer")
    response = client.get(f"/console/supporters.csv?campaign={SLUG}", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)  # the download has begun and is paused here, like a slow client
    # A writer that will not wait long: on SQLite a held lock fails it in a quarter second.
    engine = sa.create_engine(store.settings.database_url,
                              connect_args={"timeout": 0.25}
                              if store.settings.database_url.startswith("sqlite") else {})
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '250ms'")
            conn.execute(sa.insert(Supporter.__table__).values(
                email="late@example.org", first_name="Late", last_name="L", zip="82001",
                locale="en", created_at=sa.func.now()))
    finally:
        engine.dispose()
    text = (first if isinstance(first, bytes) else first.encode()) + b"".join(
        c if isinstance(c, bytes) else c.encode() for c in chunks)
    response.close()
    body = text.decode("utf-8")
    assert body.startswith("\ufeffid,email")
    assert all(f"s{n}@example.org" in body for n in range(3)) and ",given," in body
