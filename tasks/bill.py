"""The bill watcher's beat task, and the reaction to each stage transition it records."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.orm import Session

from actionwave.bill.watcher import (
    active_bill_campaigns,
    announce_transitions,
    mark_reacted,
    poll_campaign_bill,
    unreacted_transitions,
)
from actionwave.reminders.sweep import plan_senate_reminders
from actionwave.waves.launch import start_stage_waves

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


def react_to_transitions(session: Session, campaign_id: int) -> int:
    """Start the waves and plan the "write to your senators" reminders bound to each transition
    the watcher recorded and nothing reacted to yet; returns how many it reacted to.

    Each transition is claimed (``mark_reacted``) in the transaction that starts its waves, so
    two schedulers react once; both steps are idempotent besides. Commits after each.
    """
    reacted = 0
    for transition in unreacted_transitions(session, campaign_id):
        if not mark_reacted(session, transition.id):
            session.rollback()
            continue  # another scheduler reacted to it
        waves = start_stage_waves(session, campaign_id, transition.stage.key, transition.id)
        plan_senate_reminders(session, campaign_id, transition.id)
        session.commit()
        log.info("campaign %s: the bill reached %s (waves started: %s)", campaign_id,
                 transition.stage.key, waves or "none")
        reacted += 1
    return reacted
