"""What a template group looks like for a sample supporter and legislator, in every locale.

The sample legislator is a real member from the current legislator snapshot (the at-large
representative or a senator of the sample supporter's state) so a preview shows real names and
handles; without a snapshot a fixed example stands in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign
from actionwave.legislators.models import Legislator
from actionwave.legislators.sync import current_snapshot_id
from actionwave.messages.editing import WITH_SUBJECT, Draft, FieldProblem, check_drafts
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import variables
from actionwave.messages.templating import TemplateError, render

SAMPLE_SUPPORTER = {"first_name": "Mei", "city": "Cheyenne", "state": "WY"}
FALLBACK = {
    "house": LegislatorRef("X000001", "Alex Example", "house", "WY", 0, "RepExample"),
    "senate": LegislatorRef("X000002", "Sam Example", "senate", "WY", None, "SenExample"),
}


@dataclass(frozen=True)
class Rendered:
    """One locale's preview: the rendered text, or the problems that stop it rendering."""

    locale: str
    subject: str
    body: str
    problems: tuple[FieldProblem, ...] = ()


def sample_legislator(session: Session, chamber: str) -> LegislatorRef:
    """A member of ``chamber`` for the sample supporter's state, from the current snapshot."""
    chamber = chamber if chamber in FALLBACK else "house"
    snapshot = current_snapshot_id(session)
    row = None if snapshot is None else session.scalar(
        select(Legislator).where(Legislator.snapshot_id == snapshot,
                                 Legislator.chamber == chamber,
                                 Legislator.state == SAMPLE_SUPPORTER["state"])
        .order_by(Legislator.bioguide_id).limit(1))
    if row is None:
        return FALLBACK[chamber]
    return LegislatorRef(row.bioguide_id, row.name, row.chamber, row.state, row.district,
                         row.twitter, row.contact_form, row.cwc_office)


def preview_group(campaign: Campaign, kind: str, drafts: Mapping[str, Draft],
                  legislator: LegislatorRef) -> list[Rendered]:
    """Render each locale's draft for the sample supporter and ``legislator``. Pure.

    A locale with problems (or no body) is returned with them instead of text; the others
    still render, so a typo in one language doesn't blank the other's preview.
    """
    problems = check_drafts(kind, drafts, set())
    rendered = []
    for locale, draft in drafts.items():
        mine = tuple(p for p in problems if p.field.endswith(f"-{locale}"))
        if mine or not draft.body.strip():
            rendered.append(Rendered(locale, "", "", mine))
            continue
        values = variables(campaign, legislator, locale, **SAMPLE_SUPPORTER)
        try:
            subject = render(draft.subject, values).strip() if kind in WITH_SUBJECT else ""
            body = render(draft.body, values)
        except TemplateError as exc:
            mine = (FieldProblem(f"body-{locale}", exc.line, exc.message),)
            rendered.append(Rendered(locale, "", "", mine))
            continue
        rendered.append(Rendered(locale, subject, body))
    return rendered
