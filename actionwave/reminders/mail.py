"""What a reminder mail says: the campaign's ``reminder`` template named after the reminder's kind
(``write_senators``, ``ask_to_call``), else its ``default`` one. Sent by
``actionwave.waves.mail.CampaignMailSender``, which renders and sends it like a wave's mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from actionwave.delivery.claims import Claimed
from actionwave.reminders.sweep import chamber_of
from actionwave.waves.mail import MailChoice


def reminder_choices(session: Session, claimed: Sequence[Claimed]) -> dict[int, MailChoice]:
    """Each reminder delivery's template, from its payload alone (no query). A reminder to write
    to one's senators carries the Senate ask; the others the House ask."""
    choices = {}
    for delivery in claimed:
        campaign_id, kind = delivery.payload.get("campaign_id"), delivery.payload.get("kind")
        if campaign_id is not None and kind:
            choices[delivery.id] = MailChoice(int(campaign_id), "reminder", str(kind),
                                              chamber_of(str(kind)), "reminder")
    return choices
