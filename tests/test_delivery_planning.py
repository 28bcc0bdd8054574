"""Planning an action's deliveries: the confirmation mail, once, however often it is planned."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Campaign, Delivery, Supporter, Target
from actionwave.delivery.planning import PlannedDelivery, plan_deliveries
from actionwave.platform.config import Settings


def resolved_action(session: Session, campaign_slug: str) -> Action:
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    supporter = Supporter(email="ada@example.org", first_name="Ada", last_name="Lee",
                          zip="02139")
    session.add(supporter)
    session.flush()
    action = Action(campaign_id=campaign_id, supporter_id=supporter.id, status="resolved",
                    idempotency_key="plan-test")
    session.add(action)
    session.flush()
    return action


def test_planning_twice_plans_the_confirmation_once(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    action = resolved_action(db_session, campaign_slug)
    assert plan_deliveries(db_session, settings, action.id, []) == 1
    assert plan_deliveries(db_session, settings, action.id, []) == 0
    row = db_session.scalars(select(Delivery).where(Delivery.action_id == action.id)).one()
    assert (row.channel, row.recipient, row.state) == ("email", "ada@example.org", "pending")
    assert row.idempotency_key == f"confirmation:{action.id}"
    assert row.payload["mail"]["category"] == "confirmation"
    assert "List-Unsubscribe" in row.payload["mail"]["headers"]
    assert db_session.get(Action, action.id).status == "delivering"


def test_target_deliveries_come_from_the_planner_and_the_confirmation_lists_them(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    action = resolved_action(db_session, campaign_slug)
    target = Target(action_id=action.id, bioguide_id="W000817", chamber="senate", state="MA",
                    name="Elizabeth Warren", info={})
    db_session.add(target)
    db_session.flush()

    def office_mail(session: Session, action: Action,
                    targets: list[Target]) -> list[PlannedDelivery]:
        return [PlannedDelivery("email", "staff@example.org", f"email:{t.bioguide_id}",
                                {"mail": {"subject": "H.R. 2661", "text": "Please act."}},
                                target_id=t.id) for t in targets]

    assert plan_deliveries(db_session, settings, action.id, [target], office_mail) == 2
    rows = db_session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert rows[0].idempotency_key == f"email:W000817:{action.id}"
    assert "Elizabeth Warren: email to the office" in rows[1].payload["mail"]["text"]
