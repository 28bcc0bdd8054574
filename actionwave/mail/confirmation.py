"""The mail a supporter gets after acting: whom they contacted and how, with one-click unsubscribe.

Built from the rows (targets and their deliveries), so it says what actually happened. Never
built for an unsubscribed or suppressed address.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.channels import OutgoingMail
from actionwave.core.models import Action, Campaign, Delivery, Supporter, Target
from actionwave.legislators.office_phones import nearest_office
from actionwave.mail.audience import may_send_transactional
from actionwave.mail.unsubscribe import list_unsubscribe_headers, unsubscribe_url
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import templates_of
from actionwave.messages.page import page_messages
from actionwave.messages.reach import DELIVERING_CHANNELS, Reach
from actionwave.messages.templating import render, template_vars
from actionwave.platform.config import Settings

HOW: dict[str, dict[str, Any]] = {
    "en": {"cwc": "message delivered to the office through the House's CWC system",
           "email": "email to the office", "tweet": "tweet",
           "contact_form": "use the member's contact form: {url}",
           "none": "no online channel is on record: please call the office",
           "needs_address": ("Your representative: your ZIP code spans more than one district, "
                             "so we could not tell who represents you. Come back to the campaign "
                             "page with your street address to write to them too."),
           "cwc_refused": "not sent through the House's CWC system, which needs {what}",
           "and": ", ",
           "cwc_needs": {"prefix": "a title (Mr., Ms., Mx., ...)", "address": "a street address",
                         "city": "a city or town name of at least 3 letters",
                         "message": "a message of at least 6 characters",
                         "campaign": "campaign text that the organizers must fix"},
           "heading": "Whom you contacted and how:",
           "your_turn": "your turn: we have no channel to this office, please send it yourself",
           "phones": "call the Washington office: {dc}",
           "district_phone": "office in {city}: {phone}",
           "message": "Your message (to paste into a contact form):",
           "compose": "or write from your own mailbox:",
           "mail_app": "your mail app",
           "copy_for": ("Your message to {name}, to paste into their contact form. A mail has "
                        "no copy button: select everything between the two lines and copy it."),
           "status": "What happened to your message, office by office: {url}",
           "footer": "Unsubscribe or change your preferences: {url}"},
    "zh-Hant": {"cwc": "已透過眾議院 CWC 系統送達辦公室",
                "email": "已電郵至辦公室", "tweet": "推文",
                "contact_form": "請使用議員的網上聯絡表格：{url}",
                "none": "沒有網上渠道，請致電辦公室",
                "needs_address": "您的眾議員：您的郵遞區號橫跨多個選區，我們無法確定誰代表您。"
                                 "請回到活動頁面填寫街道地址，也寫信給他們。",
                "cwc_refused": "未能透過眾議院 CWC 系統送出，因為該系統需要{what}",
                "and": "、",
                "cwc_needs": {"prefix": "稱謂（例如 Mr.、Ms.、Mx.）", "address": "街道地址",
                              "city": "至少 3 個字母的城市或城鎮名稱",
                              "message": "至少 6 個字元的留言",
                              "campaign": "須由主辦者修正的活動文字"},
                "heading": "您聯絡了誰、用甚麼方式：",
                "your_turn": "輪到您：我們沒有渠道送達這個辦公室，請親自送出",
                "phones": "致電華盛頓辦公室：{dc}", "district_phone": "{city}辦公室：{phone}",
                "message": "您的訊息（可貼到聯絡表格中）：",
                "compose": "或從您自己的郵箱寄出：",
                "mail_app": "您的郵件程式",
                "copy_for": "給{name}的訊息，可貼到其聯絡表格中。郵件無法提供複製按鈕："
                            "請選取兩條線之間的全部文字並複製。",
                "status": "逐一查看每個辦公室的訊息進度：{url}",
                "footer": "取消訂閱或更改偏好設定：{url}"},
}


# Marks the block a supporter selects and copies (a mail runs no copy button).
COPY_RULE = "-" * 60


def confirmation_key(action_id: uuid.UUID) -> str:
    return f"confirmation:{action_id}"


def build_confirmation(
    session: Session, settings: Settings, action_id: uuid.UUID,
    targets: Sequence[Target] | None = None,
    channels: Mapping[int, Sequence[str]] | None = None,
) -> OutgoingMail | None:
    """The confirmation mail for an action, or None (unknown action, or address not mailable).

    Pure read: builds the mail, sends nothing. The key ``confirmation:<action id>`` makes a
    second build of the same confirmation the same delivery. By default it says what the rows
    say (the action's targets and their deliveries); a planner that is inserting the deliveries
    in the same transaction passes ``targets`` and ``channels`` (target id -> channels planned)
    instead, which saves reading them back.
    """
    action = session.get(Action, action_id)
    if action is None:
        return None
    supporter = session.get(Supporter, action.supporter_id)
    campaign = session.get(Campaign, action.campaign_id)
    if supporter is None or campaign is None or not may_send_transactional(supporter):
        return None
    locale = action.locale if action.locale in HOW else "en"
    words = HOW[locale]
    templates = templates_of(campaign, "confirmation", locale)
    copy = campaign.content.get(locale) or campaign.content.get("en") or {}
    values = template_vars(first_name=supporter.first_name, city=supporter.city,
                           state=supporter.state, bill_label=campaign.bill_label,
                           campaign_title=str(copy.get("title") or campaign.title))
    subject = render(templates[0].subject, values).strip() if templates else campaign.title
    intro = render(templates[0].body, values).strip() if templates else ""
    if targets is None:
        targets = session.scalars(
            select(Target).where(Target.action_id == action_id).order_by(Target.id)).all()
    # The thanks page's own ways in (contact forms as organizers fixed them, compose links,
    # the letters), so that the mail gives what the page gives.
    messages = page_messages(session, settings, campaign, [person_of(t) for t in targets],
                             locale, zip_code=supporter.zip, personal=action.message or "")
    reach = {r.choice.legislator.bioguide_id: r for r in messages.reach} if messages else {}
    contacts, yours = contact_lines(session, action_id, words, targets, channels,
                                    supporter.zip, reach)
    if action.status == "needs_address":
        contacts.append(f"- {words['needs_address']}")
    lines = [intro, "", words["heading"], *contacts, ""]
    letters = messages.letters if messages else {}
    blocks = [(name, letters[bioguide]) for bioguide, name in yours if bioguide in letters]
    for name, letter in blocks:  # a mail runs no copy button: a marked block to select
        lines += [words["copy_for"].format(name=name), COPY_RULE, letter.strip(), COPY_RULE, ""]
    if action.message and not blocks:
        lines += [words["message"], "", action.message.strip(), ""]
    status = (f"{settings.public_url.rstrip('/')}/c/{campaign.slug}/status/{action_id}?"
              + urlencode({"lang": locale}))  # the supporter's language
    lines += [words["status"].format(url=status), "",
              words["footer"].format(url=unsubscribe_url(settings, supporter.id, campaign.id))]
    return OutgoingMail(
        key=confirmation_key(action_id), to=supporter.email,
        to_name=f"{supporter.first_name} {supporter.last_name}".strip(), subject=subject,
        text="\n".join(lines).strip() + "\n",
        headers=list_unsubscribe_headers(settings, supporter.id, campaign.id),
        category="confirmation",
    )


def person_of(target: Target) -> dict[str, Any]:
    """A stored target as the lookup gave it (``messages.page``)."""
    return {**(target.info or {}), "bioguide_id": target.bioguide_id, "name": target.name,
            "chamber": target.chamber, "state": target.state, "district": target.district}


def contact_lines(session: Session, action_id: uuid.UUID, words: dict[str, Any],
                  targets: Sequence[Target] | None = None,
                  channels: Mapping[int, Sequence[str]] | None = None,
                  zip_code: str | None = None,
                  reach: Mapping[str, Reach] | None = None,
                  ) -> tuple[list[str], list[tuple[str, str]]]:
    """One line per legislator: name, then each channel used (or the fallback to use), with
    their compose links below; and the (bioguide id, title and name) of each legislator whose
    turn is the supporter's. ``reach`` (bioguide id -> ``messages.reach.Reach``) gives the
    contact forms organizers fixed and the compose links."""
    if targets is None:
        targets = session.scalars(
            select(Target).where(Target.action_id == action_id).order_by(Target.id)).all()
    if channels is None:
        channels = delivery_channels(session, action_id)
    lines: list[str] = []
    yours: list[tuple[str, str]] = []
    for target in targets:
        legislator = LegislatorRef.from_mapping({
            "bioguide_id": target.bioguide_id, "name": target.name, "chamber": target.chamber,
            "state": target.state, "district": target.district, "info": target.info})
        planned = channels.get(target.id, [])
        used = [words.get(c, c) for c in planned]
        choice = (reach or {}).get(target.bioguide_id)
        compose = choice.choice.compose if choice else None
        turn = not set(planned) & DELIVERING_CHANNELS
        if turn:
            form = (choice.choice.contact_form if choice else None) or legislator.contact_form
            used.insert(0, words["your_turn"])
            used.append(words["contact_form"].format(url=form) if form
                        else "" if compose else words["none"])
            yours.append((target.bioguide_id, f"{legislator.title} {legislator.name}"))
        used += phone_lines(target, words, zip_code)
        refused = (target.info or {}).get("cwc_refused")
        if refused:  # CWC could not take what the supporter gave: say so (delivery.targets)
            needs = [words["cwc_needs"].get(f, f) for f in refused.get("fields", [])]
            used.insert(0, words["cwc_refused"].format(what=words["and"].join(needs)))
        lines.append(f"- {legislator.title} {legislator.name}: {'; '.join(u for u in used if u)}")
        if turn and compose:
            lines += [f"  {words['compose']}", f"  - {words['mail_app']}: {compose.mailto}",
                      f"  - Gmail: {compose.gmail}", f"  - Outlook: {compose.outlook}"]
    return lines, yours


def phone_lines(target: Target, words: dict[str, Any], zip_code: str | None) -> list[str]:
    """The Washington office's phone and the nearest district office's, as far as known."""
    info = target.info or {}
    lines = [words["phones"].format(dc=info["phone"])] if info.get("phone") else []
    office = nearest_office(info.get("offices") or [], zip_code)
    if office:
        lines.append(words["district_phone"].format(city=office.city, phone=office.phone))
    return lines


def delivery_channels(session: Session, action_id: uuid.UUID) -> dict[int, list[str]]:
    """Target id -> the channels of its live (not failed or dead) deliveries."""
    channels: dict[int, list[str]] = {}
    for target_id, channel in session.execute(
        select(Delivery.target_id, Delivery.channel)
        .where(Delivery.action_id == action_id, Delivery.state.in_(("pending", "sending",
                                                                     "sent")))
    ):
        if target_id is not None and channel not in channels.setdefault(target_id, []):
            channels[target_id].append(channel)
    return channels
