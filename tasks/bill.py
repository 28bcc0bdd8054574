"""The bill watcher's beat task: poll each campaign's bill, then let the campaign react to the
stage transitions the watcher recorded (``actionwave.campaigns.reactions``), then announce them."""

from __future__ import annotations

import logging

from celery import shared_task

from actionwave.bill.watcher import (
    active_bill_campaigns,
    announce_transitions,
    poll_campaign_bill,
)
from actionwave.campaigns.reactions import react_to_transitions

log = logging.getLogger(__name__)


@shared_task(name="actionwave.poll_bills", bind=True)
def poll_bills(self) -> None:  # type: ignore[no-untyped-def]
    """Poll every active campaign's bill, react to new transitions, announce them. Idempotent.

    Each campaign is polled on its own: a failed poll is recorded and logged with its campaign,
    and even an unexpected error in one campaign never stops the others' polls. A rate-limited
    congress.gov is left alone until its ``Retry-After`` ends (no broker countdown).
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
                react_to_transitions(session, campaign_id)
                announce_transitions(session, campaign_id, services.poster,
                                     services.settings.public_url)
            except Exception:  # a bug or a database error: logged, and the next campaign runs
                session.rollback()
                log.exception("bill watcher failed for campaign %s", campaign_id)

