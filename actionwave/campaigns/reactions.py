"""What a campaign does when its bill reaches a stage: the bill watcher records the transition
(``actionwave.bill.watcher``), and this reacts to it.

The watcher knows neither waves nor reminders; here the transitions nothing has reacted to yet
start the waves bound to their stage and plan the "write to your senators" reminders.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from actionwave.bill.watcher import mark_reacted, unreacted_transitions
from actionwave.reminders.sweep import plan_senate_reminders
from actionwave.waves.launch import start_stage_waves

log = logging.getLogger(__name__)


def react_to_transitions(session: Session, campaign_id: int) -> int:
    """Start the waves and plan the reminders bound to each transition of the campaign that
    nothing reacted to yet; returns how many it reacted to.

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
