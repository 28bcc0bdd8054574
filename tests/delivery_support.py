"""Test data for the delivery engine: supporters, actions and planned mail deliveries in bulk."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Campaign, Delivery, Supporter
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.platform.config import Settings
from tests.stubs.sendgrid import API_KEY, SendGridStub


def mail_settings(settings: Settings, stub: SendGridStub, **changes: object) -> Settings:
    """``settings`` sending through the SendGrid stub, with fast leases and no lookup grace."""
    defaults: dict[str, object] = {
        "sendgrid_api_key": API_KEY, "sendgrid_api_host": stub.url,
        "delivery_lease_seconds": 2.0, "delivery_lookup_grace_seconds": 0.0,
        "delivery_backoff_seconds": 0.01, "sendgrid_requests_per_minute": 0,
    }
    return replace(settings, **{**defaults, **changes})


def add_mail_deliveries(session: Session, campaign_slug: str, count: int, *,
                        category: str | None = None) -> list[str]:
    """``count`` pending mail deliveries of one action; returns their idempotency keys. Commits.

    ``category=None`` gives every mail its own category, so each needs a request of its own.
    """
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    tag = uuid.uuid4().hex[:10]
    supporter = Supporter(email=f"s-{tag}@example.org", first_name="Ada", last_name="Lee",
                          zip="02139")
    session.add(supporter)
    session.flush()
    action = Action(campaign_id=campaign_id, supporter_id=supporter.id, status="delivering",
                    idempotency_key=f"act-{tag}")
    session.add(action)
    session.flush()
    now = datetime.now(UTC)
    keys = [f"test:{tag}:{i}" for i in range(count)]
    rows = [{
        "action_id": action.id, "supporter_id": supporter.id, "channel": MAIL_CHANNEL,
        "recipient": f"office{i}@example.org", "state": "pending", "attempts": 0,
        "next_attempt_at": now, "idempotency_key": key, "created_at": now, "updated_at": now,
        "payload": {"mail": mail_payload(f"Message {i}", f"Dear office {i}, please act.",
                                         category=category or f"c{i}")},
    } for i, key in enumerate(keys)]
    session.execute(insert(Delivery.__table__), rows)
    session.commit()
    return keys


def states_of(session: Session, keys: list[str]) -> dict[str, str]:
    rows = session.execute(select(Delivery.idempotency_key, Delivery.state)
                           .where(Delivery.idempotency_key.in_(keys))).all()
    return dict(rows)
