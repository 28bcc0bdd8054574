"""Finding: the CWC API key could reach `last_error`, which viewers and the CLI show. Beyond the
CWC client's own scrubbing (tests/test_cwc_key.py runs it end to end), whatever a provider or its
client library puts in an error is scrubbed of every secret setting before it is stored: after
failures of every kind, no secret (CWC key, SendGrid key, X tokens, secret key) is in any
stored field, on either store."""

from __future__ import annotations

import secrets
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy import select

from actionwave.core.models import Action, Campaign, Delivery, Supporter
from actionwave.delivery.claims import Claimed
from actionwave.delivery.outcomes import Outcomes, record_outcomes
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.system.schema import metadata
from tests.organizer_support import sqlite_services, store  # noqa: F401

SLUG = "hketo-certification-act"


def stored_texts(engine: sa.Engine) -> list[str]:
    texts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                texts += [str(value) for value in row if value is not None]
    return texts


def test_no_secret_is_stored_after_provider_failures(store):  # noqa: F811
    keys = {name: f"{name}-{secrets.token_hex(10)}" for name in (
        "cwc_api_key", "sendgrid_api_key", "x_consumer_key", "x_consumer_secret",
        "x_access_token", "x_access_token_secret", "secret_key")}
    settings = replace(store.settings, **keys)
    echo = " ".join(f"{name}={value}" for name, value in keys.items())
    with store.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        supporter = Supporter(email="mei@example.org", first_name="Mei", last_name="Chan",
                              zip="82001", state="WY")
        session.add(supporter)
        session.flush()
        action = Action(campaign_id=campaign_id, supporter_id=supporter.id, idempotency_key="k")
        session.add(action)
        session.flush()
        rows = [Delivery(action_id=action.id, campaign_id=campaign_id, channel=channel,
                         state="sending", lease_owner="w1", recipient="r", payload={},
                         idempotency_key=f"d{n}", attempts=1)
                for n, channel in enumerate(("cwc", "email", "x", "email"))]
        session.add_all(rows)
        session.commit()
        ids = [row.id for row in rows]
        outcomes = Outcomes(
            channel="email",
            retry=[(Claimed(ids[0], "d0", "r", {}, 1), f"CWC 503 at https://cwc/?apikey="
                    f"{keys['cwc_api_key']}", None)],
            failed=[(ids[1], f"SendGrid 401: Authorization: Bearer {keys['sendgrid_api_key']}")],
            dead=[(ids[2], f"X refused: oauth_token={keys['x_access_token']} {echo}")],
            in_doubt=[(ids[3], f"timeout ({keys['secret_key']})")])
        record_outcomes(session, outcomes, "w1", DeliveryPolicy.from_settings(settings))
        errors = session.scalars(select(Delivery.last_error).where(Delivery.id.in_(ids))).all()
    assert len(errors) == 4 and all("[redacted]" in e for e in errors)
    leaked = [t for t in stored_texts(store.engine) for key in keys.values() if key in t]
    assert leaked == []
