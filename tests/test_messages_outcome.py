"""What a supporter is told about their message, per legislator: the thanks and status pages."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from actionwave.core.models import Delivery
from actionwave.intake.submissions import action_status
from actionwave.legislators.index import load_index
from actionwave.legislators.office_phones import nearest_office
from actionwave.messages.outcome import message_outcome
from actionwave.platform.config import Settings
from tests.test_delivery_targets import OWN_WORDS, act, give_address, plan


def states(outcome) -> dict[str, tuple[bool, str | None]]:  # type: ignore[no-untyped-def]
    return {r.choice.legislator.name: (r.delivered, state) for r, state in outcome.lines}


def test_before_resolution_each_legislator_says_what_todays_channels_will_do(
        db_session: Session, campaign_slug: str, settings: Settings) -> None:
    give_address(db_session, "B001261", "staff@barrasso.example.org")
    action_id = act(db_session, campaign_slug)
    outcome = message_outcome(db_session, settings, load_index(db_session), action_id)
    assert outcome is not None and not outcome.resolved
    assert states(outcome) == {"John Barrasso": (True, None),
                               "Cynthia M. Lummis": (False, None),
                               "Harriet M. Hageman": (False, None)}
    [hageman] = [r for r, _ in outcome.lines if r.choice.legislator.name == "Harriet M. Hageman"]
    assert hageman.dc_phone == "202-225-2311" and hageman.district_office is not None
    assert OWN_WORDS in outcome.letters["H001096"]  # the whole letter, to paste into a form


def test_after_resolution_the_rows_say_sent_retrying_or_your_turn(
        db_session: Session, campaign_slug: str, settings: Settings) -> None:
    give_address(db_session, "B001261", "staff@barrasso.example.org")
    action_id = act(db_session, campaign_slug)
    rows = plan(db_session, settings, action_id)
    outcome = message_outcome(db_session, settings, None, action_id)
    assert outcome is not None and outcome.resolved
    assert states(outcome) == {"John Barrasso": (True, "pending"),
                               "Cynthia M. Lummis": (False, "your_turn"),
                               "Harriet M. Hageman": (False, "your_turn")}
    assert action_status(db_session, action_id)["status"] == "delivering"

    letter = rows["email:B001261"]
    db_session.execute(update(Delivery).where(Delivery.id == letter.id).values(attempts=1))
    db_session.expire_all()
    outcome = message_outcome(db_session, settings, None, action_id)
    assert states(outcome)["John Barrasso"] == (True, "retrying")

    db_session.execute(update(Delivery).where(Delivery.action_id == action_id)
                       .values(state="sent"))
    db_session.expire_all()
    outcome = message_outcome(db_session, settings, None, action_id)
    assert states(outcome)["John Barrasso"] == (True, "sent")
    # Nothing left to carry: the status ends instead of staying "delivering".
    assert action_status(db_session, action_id)["status"] == "done"


def test_nearest_district_office_is_the_one_with_the_closest_zip() -> None:
    offices = [{"city": "Casper", "zip": "82601", "phone": "307-261-6595"},
               {"city": "Cheyenne", "zip": "82001", "phone": "307-772-2451"},
               {"city": "No phone", "zip": "82002"}]
    assert nearest_office(offices, "82009").city == "Cheyenne"
    assert nearest_office(offices, "82604").city == "Casper"
    assert nearest_office(offices, None).city == "Casper"  # unknown ZIP: the first listed
    assert nearest_office([{"city": "X", "zip": "1"}], "82001") is None
