"""Wave and reminder mail: the campaign's template, rendered for each supporter at send time.

Wave and reminder deliveries carry only what to send (``{"wave_id", "template"}`` or
``{"reminder_id", "kind", "campaign_id"}``), not the mail itself: 100,000 rendered bodies would
bloat the table, and rendering at send time lets an organizer fix a template until the last batch
leaves. ``CampaignMailSender`` renders one claimed batch with a handful of queries (the batch's
supporters in one, its campaigns and templates in one more) and compiles each template once per
batch, then hands the mails to ``MailSender``, which packs them into SendGrid requests of up to
1,000 personalizations.

Each mail is checked against the rule of ``actionwave.mail.audience`` once more as it is rendered:
a supporter who withdrew their consent to the campaign, unsubscribed or was suppressed after the
wave fanned out (or the reminder was swept) is never mailed, and the delivery fails with the
reason, without reaching the provider. So does a delivery whose template is missing or broken (an
organizer must fix it; retrying would not help).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from actionwave.core.channels import Mailer, Permanent, SendOutcome
from actionwave.core.models import Campaign, Delivery, MessageTemplate, Supporter, Wave
from actionwave.delivery.claims import Claimed
from actionwave.delivery.mailing import MailSender, mail_payload
from actionwave.mail.audience import refusal, refusal_text
from actionwave.mail.unsubscribe import list_unsubscribe_headers, unsubscribe_url
from actionwave.messages.templating import (
    CompiledTemplate,
    TemplateError,
    compile_template,
    template_vars,
)
from actionwave.platform.config import Settings

FOOTER = {
    "en": "Take action: {page}\n\nYou get this because you asked {title} for updates. "
          "Unsubscribing stops this campaign's mail. Unsubscribe: {unsubscribe}",
    "zh-Hant": "立即行動：{page}\n\n您收到此郵件，是因為您要求「{title}」通知您最新進展。"
               "取消訂閱會停止此活動寄給您的電郵。取消訂閱：{unsubscribe}",
}
REFUSED = "refused"  # payload key of a delivery that must not reach the provider, with the reason


@dataclass(frozen=True)
class MailChoice:
    """What to render for one delivery: template ``kind`` and ``name`` of ``campaign_id``, with the
    ask for ``chamber``; ``category`` is SendGrid's category for the mail."""

    campaign_id: int
    kind: str
    name: str
    chamber: str
    category: str


MailChooser = Callable[[Session, Sequence[Claimed]], dict[int, MailChoice]]
"""Maps claimed delivery ids to what each should render; deliveries left out are refused."""


def wave_choices(session: Session, claimed: Sequence[Claimed]) -> dict[int, MailChoice]:
    """A wave delivery renders its wave's template (kind ``wave``), asking the segment's chamber.

    One query for all the batch's waves.
    """
    wave_ids = {c.payload.get("wave_id") for c in claimed}
    waves = {w.id: w for w in session.scalars(select(Wave).where(Wave.id.in_(wave_ids)))}
    choices = {}
    for delivery in claimed:
        wave = waves.get(delivery.payload.get("wave_id"))
        if wave is not None:
            choices[delivery.id] = MailChoice(
                wave.campaign_id, "wave", str(delivery.payload.get("template") or "default"),
                str(wave.segment.get("chamber") or "house"), "wave")
    return choices


class CampaignMailSender:
    """The delivery engine's ``Sender`` for mail rendered from campaign templates.

    Not shared between threads: ``requests`` keeps nothing, but each call opens its own session.
    """

    provider = MailSender.provider

    def __init__(self, choose: MailChooser, session_factory: sessionmaker[Session],
                 settings: Settings, mailer: Mailer) -> None:
        self.choose = choose
        self.session_factory = session_factory
        self.settings = settings
        self.mail = MailSender(mailer)

    def requests(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]:
        """Render ``claimed``; mails grouped into provider requests, refused ones in their own."""
        with self.session_factory() as session:
            rendered = render_batch(session, self.settings, claimed, self.choose)
        sendable = [c for c in rendered if REFUSED not in c.payload]
        refused: dict[str, list[Claimed]] = {}
        for delivery in rendered:
            if REFUSED in delivery.payload:
                refused.setdefault(delivery.payload[REFUSED], []).append(delivery)
        return [*self.mail.requests(sendable), *refused.values()]

    def send(self, request: Sequence[Claimed]) -> str | None:
        """Send one request; a refused group raises ``Permanent`` with its reason, unsent."""
        if request and REFUSED in request[0].payload:
            raise Permanent(request[0].payload[REFUSED])
        return self.mail.send(request)

    def lookup(self, key: str) -> SendOutcome:
        return self.mail.lookup(key)


def render_batch(session: Session, settings: Settings, claimed: Sequence[Claimed],
                 choose: MailChooser) -> list[Claimed]:
    """``claimed`` with each payload replaced by its rendered ``{"mail": ...}``, or by
    ``{"refused": reason}`` for a supporter the delivery's campaign may not mail now, or a
    template we cannot render.

    Pure reads: a few queries for the whole batch, each template compiled once.
    """
    found = session.execute(
        select(Delivery.id, Delivery.campaign_id, Supporter, refusal(Delivery.campaign_id))
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Delivery.id.in_([c.id for c in claimed]))
    ).all()
    supporters = {delivery_id: supporter for delivery_id, _, supporter, _ in found}
    refused = {delivery_id: (campaign_id, reason) for delivery_id, campaign_id, _, reason in found}
    choices = choose(session, claimed)
    campaigns = {c.id: c for c in session.scalars(
        select(Campaign).where(Campaign.id.in_({ch.campaign_id for ch in choices.values()}))
        .options(selectinload(Campaign.templates)))}
    templates = _Templates(campaigns)
    rendered = []
    for delivery in claimed:
        supporter, choice = supporters.get(delivery.id), choices.get(delivery.id)
        campaign_id, reason = refused.get(delivery.id, (None, None))
        if (supporter is None or choice is None or choice.campaign_id not in campaigns
                or campaign_id != choice.campaign_id):
            payload: dict[str, Any] = {REFUSED: "nothing to send: supporter, wave or campaign "
                                                "is gone"}
        elif reason is not None:
            payload = {REFUSED: refusal_text(reason, supporter)}
        else:
            try:
                payload = {"mail": _compose(settings, campaigns[choice.campaign_id], choice,
                                            supporter, templates)}
            except TemplateError as exc:
                payload = {REFUSED: f"template {choice.kind}/{choice.name}: {exc}"}
        rendered.append(replace(delivery, payload=payload))
    return rendered


_SubjectAndBody = tuple[CompiledTemplate, CompiledTemplate]


class _Templates:
    """The batch's compiled templates, by (campaign, kind, locale, name): each compiled once."""

    def __init__(self, campaigns: dict[int, Campaign]) -> None:
        self.campaigns = campaigns
        self.compiled: dict[tuple[int, str, str, str], _SubjectAndBody] = {}

    def get(self, choice: MailChoice, locale: str) -> _SubjectAndBody:
        """(subject, body) in ``locale`` (else English); the named template, else ``default``.

        Raises ``TemplateError`` when the campaign has neither.
        """
        key = (choice.campaign_id, choice.kind, locale, choice.name)
        if key not in self.compiled:
            found = _find(self.campaigns[choice.campaign_id].templates, choice, locale)
            if found is None:
                raise TemplateError(choice.kind, None, f"the campaign has no {choice.kind} "
                                                       f"template '{choice.name}'")
            self.compiled[key] = (compile_template(found.subject), compile_template(found.body))
        return self.compiled[key]


def _find(templates: Sequence[MessageTemplate], choice: MailChoice,
          locale: str) -> MessageTemplate | None:
    for wanted_locale in (locale, "en"):
        for wanted_name in (choice.name, "default"):
            for template in templates:
                if (template.kind, template.locale, template.name) == (
                        choice.kind, wanted_locale, wanted_name):
                    return template
    return None


def _compose(settings: Settings, campaign: Campaign, choice: MailChoice, supporter: Supporter,
             templates: _Templates) -> dict[str, Any]:
    locale = supporter.locale if supporter.locale in FOOTER else "en"
    copy: dict[str, Any] = campaign.content.get(locale) or campaign.content.get("en") or {}
    title = str(copy.get("title") or campaign.title)
    values = template_vars(
        first_name=supporter.first_name, city=supporter.city, state=supporter.state,
        campaign_title=title, bill_label=campaign.bill_label,
        ask=str(copy.get(f"ask_{choice.chamber}") or copy.get("ask_house") or ""),
    )
    subject, body = templates.get(choice, locale)
    page = f"{settings.public_url.rstrip('/')}/c/{campaign.slug}?lang={locale}"  # their language
    footer = FOOTER[locale].format(page=page, title=title,
                                   unsubscribe=unsubscribe_url(settings, supporter.id, campaign.id))
    return mail_payload(
        subject.render(values).strip() or title,
        f"{body.render(values).strip()}\n\n{footer}\n",
        to_name=f"{supporter.first_name} {supporter.last_name}".strip(),
        headers=list_unsubscribe_headers(settings, supporter.id, campaign.id),
        category=choice.category,
    )
