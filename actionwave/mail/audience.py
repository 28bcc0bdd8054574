"""Who may get a campaign's mail: the one rule, as SQL for planning and again at send time.

Mail that is not transactional (waves, reminders, any future newsletter) goes to a supporter only
while all of these hold:

- they consented to *that* campaign and have not withdrawn (``CampaignConsent``);
- they have not stopped all mail (``Supporter.unsubscribed_at``);
- their address is not suppressed: bounce, drop, spam report or erasure
  (``Supporter.suppressed_reason``).

Planning (a wave's fan-out, reminder planning) filters supporters with ``may_mail``. Sending asks
again with ``refusal`` (the sweep that turns due reminders into deliveries, and the renderer of
wave and reminder mail), so a supporter who withdraws between the two gets nothing, and what was
planned is closed with the reason instead of being sent. Both are built from ``_RULE``, so they
cannot drift apart.

A confirmation of the supporter's own action is transactional and outside the rule: it only
needs ``may_send_transactional`` (not unsubscribed from everything, not suppressed).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, exists, literal, not_

from actionwave.core.models import CampaignConsent, Supporter

UNSUBSCRIBED = "unsubscribed"
SUPPRESSED = "suppressed"
NO_CONSENT = "no_consent"

CampaignRef = int | ColumnElement[int]
"""A campaign id, or a column holding one (``Reminder.campaign_id``) to decide row by row."""


def consented(campaign: CampaignRef) -> ColumnElement[bool]:
    """The supporter's consent to ``campaign`` stands (given, not withdrawn)."""
    return exists().where(CampaignConsent.supporter_id == Supporter.id,
                          CampaignConsent.campaign_id == campaign,
                          CampaignConsent.withdrawn_at.is_(None))


def _rule(campaign: CampaignRef) -> list[tuple[str, ColumnElement[bool]]]:
    """Each condition of the rule, with the refusal it gives when it does not hold."""
    return [
        (UNSUBSCRIBED, Supporter.unsubscribed_at.is_(None)),
        (SUPPRESSED, Supporter.suppressed_reason.is_(None)),
        (NO_CONSENT, consented(campaign)),
    ]


def may_mail(campaign: CampaignRef) -> ColumnElement[bool]:
    """WHERE clause on ``supporters``: those ``campaign`` may send non-transactional mail to.

    A plain conjunction with an EXISTS, so PostgreSQL plans it as a semi-join on the consents of
    the campaign (``uq_campaign_consents_campaign_id``).
    """
    return and_(*(holds for _, holds in _rule(campaign)))


def refusal(campaign: CampaignRef) -> ColumnElement[str | None]:
    """Column expression on ``supporters``: why ``campaign`` may not mail them (``UNSUBSCRIBED``,
    ``SUPPRESSED``, ``NO_CONSENT``), or NULL when it may."""
    return case(*((not_(holds), literal(reason)) for reason, holds in _rule(campaign)),
                else_=None)


def refusal_text(reason: str, supporter: Supporter) -> str:
    """A delivery's ``last_error`` for a refusal: what stopped it, in words."""
    if reason == UNSUBSCRIBED:
        return "not sent: the supporter unsubscribed from all mail"
    if reason == SUPPRESSED:
        return f"not sent: the address is suppressed ({supporter.suppressed_reason})"
    return "not sent: no consent to this campaign's mail (never given, or withdrawn)"


def may_send_transactional(supporter: Supporter) -> bool:
    """Whether a transactional mail (the confirmation of their own action) may go: never to an
    address that stopped all mail, bounced, complained or was erased."""
    return supporter.unsubscribed_at is None and supporter.suppressed_reason is None
