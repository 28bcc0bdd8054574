"""The bill watcher's beat task polls each campaign's bill and announces the stage transitions it
records; the campaign reacts to them in a task of its own (``react_to_bill``), which the watcher
only asks for."""

from __future__ import annotations

import logging

from celery import shared_task

from actionwave.bill.watcher import (
    active_bill_campaigns,
    announce_transitions,
    poll_campaign_bill,
    unreacted_transitions,
)
from actionwave.campaigns.reactions import react_to_transitions

log = logging.getLogger(__name__)


@shared_task(name="actionwave.poll_bills", bind=True)
def poll_bills(self) -> None:  # type: ignore[no-untyped-def]
    """Poll every active campaign's bill, announce new transitions, and ask ``react_to_bill``
    for each campaign with a transition nothing reacted to yet. Idempotent.

    Each campaign is polled on its own: a failed poll is recorded and logged with its campaign,
    and even an unexpected error in one campaign never stops the others' polls. A rate-limited
    congress.gov is left alone until its ``Retry-After`` ends (no broker countdown). A reaction
    asked for and lost (a broker restart) is asked for again at the next poll: the transition
    stays unreacted in the database until a reaction claims it.
    """
    services = self.app.services
    with services.session() as session:
        campaign_ids = active_bill_campaigns(session)
    for campaign_id in campaign_ids:
        with services.session() as session:
            try:
                result = poll_campaign_bill(session, campaign_id, services.bill_source)
                if result.error is not None:
                    log.warning("bill poll for campaign %s failed (%s): %s", campaign_id,
                                result.error.kind, result.error.reason)
                announce_transitions(session, campaign_id, services.poster,
                                     services.settings.public_url)
                unreacted = bool(unreacted_transitions(session, campaign_id))
            except Exception:  # a bug or a database error: logged, and the next campaign runs
                session.rollback()
                log.exception("bill watcher failed for campaign %s", campaign_id)
                continue
        if unreacted:
            react_to_bill.delay(campaign_id)


@shared_task(name="actionwave.react_to_bill", bind=True)
def react_to_bill(self, campaign_id: int) -> None:  # type: ignore[no-untyped-def]
    """Start the waves and plan the reminders of the campaign's new bill stages. Idempotent:
    each transition is claimed once (``actionwave.campaigns.reactions``)."""
    with self.app.services.session() as session:
        react_to_transitions(session, campaign_id)
