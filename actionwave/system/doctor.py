"""``actionwave doctor``: what each channel will actually do with today's configuration.

One harmless call to each configured provider, all at once and each with a short timeout, so an
operator gets an answer within seconds even offline: a Census lookup of a fixed address (does it
give a district?), a congress.gov fetch of a campaign's bill, a SendGrid send in sandbox mode
(checked, never delivered), and CWC's ``/validate`` with a sample document (checked, never
delivered). X is reported but not called: no post is harmless. Then, per active campaign, how
many House offices get CWC, an email from us, only a contact form, or no channel at all
(``actionwave.campaigns.coverage``, the plan the campaign page uses).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from actionwave.core.channels import ProviderError
from actionwave.platform.config import Settings

TIMEOUT_SECONDS = 3.0
CENSUS_ADDRESS = "1600 Pennsylvania Avenue NW, Washington, DC 20500"
DEFAULT_BILL = (119, "hr", 2661)


@dataclass(frozen=True)
class ProviderCheck:
    """One provider: ``ok`` is None when it is not configured (nothing was called)."""

    name: str
    configured: bool
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class CampaignCoverage:
    slug: str
    house: dict[str, int]  # channel -> House offices (actionwave.messages.compose_links)


@dataclass
class Report:
    providers: list[ProviderCheck] = field(default_factory=list)
    campaigns: list[CampaignCoverage] = field(default_factory=list)
    database: str = "ok"

    @property
    def healthy(self) -> bool:
        """False when a configured provider failed or the database could not be read."""
        return self.database == "ok" and all(p.ok is not False for p in self.providers)

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "database": self.database,
                "providers": [asdict(p) for p in self.providers],
                "campaigns": [asdict(c) for c in self.campaigns]}


def diagnose(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> Report:
    """Check every provider (in parallel, each within ``timeout``) and the House coverage of
    every active campaign. Never raises for a provider or the database: it reports them."""
    from actionwave.system.services import Services

    services = Services(settings)
    report = Report()
    try:
        try:
            bill, report.campaigns = _campaigns(services, settings)
        except SQLAlchemyError as exc:
            bill, report.database = DEFAULT_BILL, f"could not be read ({type(exc).__name__})"
        checks: list[Callable[[], ProviderCheck]] = [
            lambda: census(settings, timeout), lambda: congress(settings, bill, timeout),
            lambda: sendgrid(settings, timeout), lambda: cwc(settings, timeout),
            lambda: x(settings)]
        with ThreadPoolExecutor(len(checks)) as pool:
            report.providers = list(pool.map(lambda check: check(), checks))
    finally:
        services.close()
    return report


def _campaigns(services: Any, settings: Settings) -> tuple[tuple[int, str, int],
                                                           list[CampaignCoverage]]:
    from actionwave.campaigns.coverage import coverage
    from actionwave.core.models import Campaign
    from actionwave.cwc.client import CwcClient

    with services.session() as session:
        campaigns = session.scalars(select(Campaign).where(Campaign.status == "active")
                                    .order_by(Campaign.id)).all()
        found = []
        for campaign in campaigns:
            plan = coverage(session, campaign.id, cwc_enabled=CwcClient.configured(settings))
            house = [c.channel for c in plan.choices if c.legislator.chamber == "house"]
            found.append(CampaignCoverage(campaign.slug, {channel: house.count(channel) for
                                                          channel in plan.counts}))
        bills = [(c.bill_congress, c.bill_type, c.bill_number) for c in campaigns
                 if c.bill_congress and c.bill_type and c.bill_number]
    return (bills[0] if bills else DEFAULT_BILL), found


def census(settings: Settings, timeout: float) -> ProviderCheck:
    from actionwave.legislators.geocoder import CensusGeocoder, GeocoderUnavailable

    geocoder = CensusGeocoder(settings.geocoder_url, timeout, layers=settings.geocoder_layers)
    try:
        found = geocoder.locate(CENSUS_ADDRESS)
    except GeocoderUnavailable as exc:
        return ProviderCheck("Census geocoder", True, False,
                             f"{exc}: street addresses fall back to their ZIP code")
    if found is None:
        return ProviderCheck("Census geocoder", True, False,
                             f"answered, but gave no congressional district for "
                             f"'{CENSUS_ADDRESS}' (GEOCODER_LAYERS={settings.geocoder_layers}): "
                             "street addresses fall back to their ZIP code")
    return ProviderCheck("Census geocoder", True, True,
                         f"a street address gives its district ({found.state}-{found.district} "
                         "for the test address)")


def congress(settings: Settings, bill: tuple[int, str, int], timeout: float) -> ProviderCheck:
    from actionwave.bill.budget import RequestBudget
    from actionwave.bill.congress_api import BillRef, CongressGovClient

    name = "congress.gov"
    if not settings.congress_api_key:
        return ProviderCheck(name, False, None, "not configured (CONGRESS_API_KEY): bill stages "
                                                "are not followed")
    client = CongressGovClient(settings.congress_api_url, settings.congress_api_key,
                               RequestBudget(10), timeout=timeout, sleep=lambda _: None)
    ref = BillRef(*bill)
    try:
        actions = client.actions(ref) or []
    except ProviderError as exc:
        return ProviderCheck(name, True, False, f"{exc}: bill stages are not followed")
    return ProviderCheck(name, True, True, f"{ref.bill_type.upper()} {ref.number} "
                                           f"({ref.congress}th): {len(actions)} actions read")


def sendgrid(settings: Settings, timeout: float) -> ProviderCheck:
    from actionwave.mail.sendgrid_mailer import SendGridMailer

    if not settings.sendgrid_api_key:
        return ProviderCheck("SendGrid", False, None,
                             f"not configured: mail is written to {settings.outbox_dir}/ and "
                             "nobody receives it")
    try:
        status = SendGridMailer(settings, timeout=timeout).check(parseaddr(settings.mail_from)[1])
    except ProviderError as exc:
        return ProviderCheck("SendGrid", True, False, f"{exc}: no mail goes out")
    return ProviderCheck("SendGrid", True, True,
                         f"a sandbox-mode send was accepted ({status}); mail goes out")


def cwc(settings: Settings, timeout: float) -> ProviderCheck:
    from actionwave.cwc.agent import agent_problems
    from actionwave.cwc.client import CwcClient

    if not CwcClient.configured(settings):
        return ProviderCheck("CWC", False, None, "not configured (CWC_API_URL, CWC_API_KEY): "
                                                 "House offices get no message from us")
    problems = agent_problems(settings)
    if problems:
        return ProviderCheck("CWC", True, False, "; ".join(problems) + ": workers won't start")
    try:
        receipt = CwcClient(settings, timeout=timeout).validate(sample_document(settings))
    except ProviderError as exc:
        return ProviderCheck("CWC", True, False, f"{exc}: House offices get no message from us")
    return ProviderCheck("CWC", True, True,
                         f"CWC validated a sample message ({receipt.status}); House offices "
                         "get our messages")


def sample_document(settings: Settings) -> bytes:
    """A document CWC can check without delivering: the White House's address, our contact."""
    from actionwave.cwc.message import CwcConstituent, CwcMessage, agent_delivery, build_cwc_xml

    person = CwcConstituent(prefix="Mx.", first_name="Doctor", last_name="Check",
                            address1="1600 Pennsylvania Avenue NW", city="Washington",
                            state="DC", zip="20500", email=settings.cwc_agent_contact_email)
    message = CwcMessage(subject="actionwave doctor check", topic="Congress",
                         organization_statement="A format check; not a message to deliver.",
                         constituent_message="")
    return build_cwc_xml(agent_delivery(settings, "actionwave-doctor", "actionwave-doctor"),
                         "HDC00", person, message, date.today())


def x(settings: Settings) -> ProviderCheck:
    keys = (settings.x_consumer_key, settings.x_consumer_secret, settings.x_access_token,
            settings.x_access_token_secret)
    if not all(keys):
        return ProviderCheck("X", False, None, "not configured: bill-stage posts are written "
                                               f"to {settings.instance_path / 'posts'}/")
    return ProviderCheck("X", True, None, "configured; not called (no post is harmless)")


MARKS = {True: "ok  ", False: "FAIL", None: "--  "}
CHANNEL_WORDS = {"cwc": "CWC", "email": "email from us", "compose": "from the supporter's mail",
                 "contact_form": "contact form only", "none": "no channel"}


def render(report: Report) -> str:
    """The report as lines an operator can read at 3 a.m."""
    lines = ["Providers"]
    for check in report.providers:
        lines.append(f"  {MARKS[check.ok]} {check.name:<16} {check.detail}")
    lines.append(f"  {MARKS[report.database == 'ok']} {'database':<16} {report.database}")
    for campaign in report.campaigns:
        total = sum(campaign.house.values())
        counts = ", ".join(f"{n} {CHANNEL_WORDS.get(ch, ch)}" for ch, n in campaign.house.items()
                           if n)
        lines += ["", f"House offices, campaign '{campaign.slug}' ({total} seated): {counts}"]
    if report.database == "ok" and not report.campaigns:
        lines += ["", "No active campaign."]
    lines += ["", "All configured providers answered." if report.healthy else
              "Something configured is failing: see FAIL above."]
    return "\n".join(lines)
