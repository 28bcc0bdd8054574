"""The bill watcher's beat task."""

from __future__ import annotations

import logging

from celery import shared_task

from actionwave.bill.watcher import active_bill_campaigns, announce_transitions, poll_campaign_bill
from actionwave.channels import Permanent, Retryable

log = logging.getLogger(__name__)


@shared_task(name="actionwave.poll_bills", bind=True)
def poll_bills(self) -> None:  # type: ignore[no-untyped-def]
    """Poll every active campaign's bill and announce new transitions. Idempotent.

    A rate-limited or failing congress.gov is left for the next beat tick (no broker countdown).
    """
    services = self.app.services
    with services.session() as session:
        campaign_ids = active_bill_campaigns(session)
    for campaign_id in campaign_ids:
        with services.session() as session:
            try:
                for new in poll_campaign_bill(session, campaign_id, services.bill_source):
                    log.info("campaign %s: the bill reached %s (waves started: %s)",
                             campaign_id, new.stage.key, new.wave_ids or "none")
            except (Retryable, Permanent) as exc:
                log.warning("bill poll for campaign %s failed: %s", campaign_id, exc)
            announce_transitions(session, campaign_id, services.poster,
                                 services.settings.public_url)
