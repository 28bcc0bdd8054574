"""A campaign's bill for the console: the stages reached so far and the actions as fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.bill.models import BillStageTransition
from actionwave.bill.stages import STAGE_LABELS, STAGES
from actionwave.core.models import BillAction, Campaign, Wave


@dataclass(frozen=True)
class StageStep:
    """One stage of the bill's path; ``reached`` holds its transitions (one per chamber)."""

    stage: str
    label: str
    reached: list[BillStageTransition]
    waves: list[Wave]


@dataclass(frozen=True)
class BillTimeline:
    steps: list[StageStep]
    actions: list[BillAction]
    last_fetched: datetime | None


def bill_timeline(session: Session, campaign: Campaign, action_limit: int = 500) -> BillTimeline:
    """Every stage in order with what reached it and the waves bound to it, and the newest
    ``action_limit`` actions recorded for the campaign's bill (newest first). Reads only."""
    transitions = session.scalars(
        select(BillStageTransition).where(BillStageTransition.campaign_id == campaign.id)
        .order_by(BillStageTransition.action_date, BillStageTransition.id)).all()
    waves = session.scalars(select(Wave).where(Wave.campaign_id == campaign.id,
                                               Wave.trigger == "stage")).all()
    steps = [StageStep(stage, STAGE_LABELS[stage],
                       [t for t in transitions if t.stage == stage],
                       [w for w in waves if (w.trigger_stage or "").split(":")[0] == stage])
             for stage in STAGES]
    actions: list[BillAction] = []
    if campaign.bill_congress and campaign.bill_type and campaign.bill_number:
        actions = list(session.scalars(
            select(BillAction).where(BillAction.congress == campaign.bill_congress,
                                     BillAction.bill_type == campaign.bill_type.lower(),
                                     BillAction.bill_number == campaign.bill_number)
            .order_by(BillAction.action_date.desc(), BillAction.id.desc()).limit(action_limit)))
    fetched = max((a.fetched_at for a in actions), default=None)
    return BillTimeline(steps, actions, fetched)
