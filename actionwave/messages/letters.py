"""A supporter's letter to one legislator: the organization's text and the supporter's, apart.

The organization's statement is a campaign template rendered for the legislator; the
constituent message is the supporter's own text, carried verbatim and never rendered, so
``{{ … }}`` typed by a supporter stays exactly as typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from actionwave.core.models import Campaign, MessageTemplate
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.templating import TemplateVars, render, template_vars


@dataclass(frozen=True)
class Letter:
    subject: str
    organization_statement: str
    constituent_message: str
    signature: str

    @property
    def text(self) -> str:
        """The plain-text email: statement, the supporter's words, then their name and place."""
        parts = [self.organization_statement.strip(), self.constituent_message.strip(),
                 self.signature.strip()]
        return "\n\n".join(p for p in parts if p) + "\n"


def templates_of(campaign: Campaign, kind: str, locale: str) -> list[MessageTemplate]:
    """The campaign's templates of ``kind`` in ``locale`` (English when the locale has none)."""
    for wanted in (locale, "en"):
        found = [t for t in campaign.templates if t.kind == kind and t.locale == wanted]
        if found:
            return sorted(found, key=lambda t: t.name)
    return []


def ask_for(campaign: Campaign, legislator: LegislatorRef, locale: str) -> str:
    copy: dict[str, Any] = campaign.content.get(locale) or campaign.content.get("en") or {}
    return str(copy.get(f"ask_{legislator.chamber}") or copy.get("ask_house") or "")


def variables(campaign: Campaign, legislator: LegislatorRef, locale: str, *,
              first_name: str = "", city: str | None = None,
              state: str | None = None) -> TemplateVars:
    """Every template variable for this campaign, legislator and supporter."""
    copy = campaign.content.get(locale) or campaign.content.get("en") or {}
    return template_vars(
        first_name=first_name, city=city, state=state, title=legislator.title,
        name=legislator.name, handle=legislator.handle,
        campaign_title=str(copy.get("title") or campaign.title), bill_label=campaign.bill_label,
        ask=ask_for(campaign, legislator, locale),
    )


def write_letter(template: MessageTemplate, values: TemplateVars, constituent_message: str,
                 signature_lines: Sequence[str]) -> Letter:
    """Render the organization's part; attach the supporter's text untouched.

    Raises ``TemplateError`` only for a template that skipped load-time validation.
    """
    return Letter(
        subject=render(template.subject, values).strip(),
        organization_statement=render(template.body, values),
        constituent_message=constituent_message or "",
        signature="\n".join(line for line in signature_lines if line),
    )
