"""Mail only whom we may, end to end: every mail counted at SendGrid against the rule.

Real processes: ``actionwave web`` (gunicorn), a Celery worker and two ``actionwave beat``
(one fires, one stands by), with the SendGrid and congress.gov stubs. Two campaigns: the HKETO
campaign (A, following H.R. 2661) and a made-up second one (B). Supporters come through the
public API in groups: one campaign or both, consenting to one, both or neither, then some
unsubscribe from one campaign through the link of its mail, stop all mail, bounce, report spam,
are erased, or withdraw after their reminder was planned. They live in single-zone and split
states, in the District, Puerto Rico, Hawaii (in quiet hours during the test), a vacant district
and a ZIP the crosswalk does not know; half read English, half Chinese.

Then the organizer launches a wave in each campaign, the bill moves (a stage wave to senators,
and "write to your senators" reminders), and three days pass for the "ask to call" reminders.
The test keeps its own ledger of what each supporter agreed to and withdrew, computes from it who
may get which mail (the rule of ``actionwave.mail.audience``, written out here again, not
called), and compares with what SendGrid received, mail by mail.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, text

from actionwave.accounts.services import create_api_token, create_user
from actionwave.bill.models import BillStageTransition
from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Action, Reminder, Supporter
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE, SECOND_CAMPAIGN_FILE, truncate_all
from tests.delivery_support import mail_settings
from tests.stubs.congress import API_KEY, BillReplay, CongressStub, running
from tests.stubs.sendgrid import Accepted, sendgrid_stub
from tests.support import BeatProcess, wait_for, web_processes

ADMIN = "e2e-admin@example.org"
ADMIN_PASSWORD = "correct horse battery"

A, B = "hketo-certification-act", "test-second-campaign"
PER_GROUP = 4
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
NON_TRANSACTIONAL = ("A wave", "B wave", "A senate wave", "A call", "B call", "A write senators")


@dataclass(frozen=True)
class Group:
    """Supporters alike: where they live, what they did, and what that means for their mail."""

    name: str
    zip: str
    acted: tuple[str, ...]  # campaigns they submitted an action to
    consented: tuple[str, ...]  # campaigns whose "keep me updated" box they ticked
    then: str = ""  # what they do after: withdraw_a, withdraw_a_after_planning, stop_all, ...
    state: str | None = None  # typed on the form (most leave it blank)
    senators: bool = True  # their state has senators
    house: bool = True  # their district is known and its seat filled
    wrote_senate: bool = True  # their action reached their senators
    quiet: bool = False  # in quiet hours through the test (Hawaii)

    def eligible(self, campaign: str) -> bool:
        """The rule: consented to that campaign and not withdrawn, not unsubscribed from all
        mail, not suppressed (bounce, spam report, erased)."""
        withdrawn = campaign == A and self.then in ("withdraw_a", "withdraw_a_after_planning")
        stopped = self.then in ("stop_all", "bounce", "spamreport", "erase")
        return campaign in self.consented and not withdrawn and not stopped

    def expected(self) -> Counter[str]:
        """How many of each non-transactional mail each of them should get."""
        mails: Counter[str] = Counter()
        for campaign, tag in ((A, "A"), (B, "B")):
            if self.eligible(campaign):
                mails[f"{tag} wave"] += 1
                if campaign in self.acted and self.house and not self.quiet:
                    mails[f"{tag} call"] += 1
        if self.eligible(A) and self.senators:
            mails["A senate wave"] += 1
            if A in self.acted and not self.wrote_senate and not self.quiet:
                mails["A write senators"] += 1
        return mails


GROUPS = [
    Group("a_california", "94110", (A,), (A,)),
    Group("a_hawaii", "96813", (A,), (A,), quiet=True),
    Group("a_district_of_columbia", "20001", (A,), (A,), senators=False, wrote_senate=False),
    Group("a_puerto_rico", "00901", (A,), (A,), senators=False, wrote_senate=False),
    Group("a_vacant_seat", "94541", (A,), (A,), house=False),
    Group("a_el_paso", "79901", (A,), (A,)),
    Group("a_zip_unknown_ny", "10008", (A,), (A,), state="NY", house=False, wrote_senate=False),
    Group("a_no_consent", "94110", (A,), ()),
    Group("b_only", "10022", (B,), (B,)),
    Group("ab_consent_both", "94110", (A, B), (A, B)),
    Group("ab_consent_a", "94110", (A, B), (A,)),
    Group("ab_consent_b", "10022", (A, B), (B,)),
    Group("ab_unsubscribed_from_a", "94110", (A, B), (A, B), then="withdraw_a"),
    Group("ab_stopped_all_mail", "94110", (A, B), (A, B), then="stop_all"),
    Group("a_bounced", "94110", (A,), (A,), then="bounce"),
    Group("a_spam_report", "94110", (A,), (A,), then="spamreport"),
    Group("a_erased", "94110", (A,), (A,), then="erase"),
    Group("a_withdrew_after_planning", "94110", (A,), (A,), then="withdraw_a_after_planning"),
]


@dataclass
class Person:
    group: Group
    email: str
    locale: str
    actions: dict[str, str]  # campaign -> action id


def people() -> list[Person]:
    return [Person(group, f"{group.name.replace('_', '-')}-{n}@example.org",
                       "zh-Hant" if n % 2 else "en", {})
            for group in GROUPS for n in range(PER_GROUP)]


def quiet_in_hawaii_only() -> dict[str, int]:
    """Quiet hours around Hawaii's present hour, for an hour at least: no other zone of the
    test (Alaska aside) is within two hours of Hawaii's clock."""
    hour = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Honolulu")).hour
    return {"quiet_hours_start": (hour - 1) % 24, "quiet_hours_end": (hour + 2) % 24}


@pytest.fixture
def clean_slate(committed_db: Services) -> Services:
    """Nothing but the two campaigns: rows an earlier test left behind (an action still in the
    outbox) would be mailed by this test's worker, and counted."""
    truncate_all(committed_db.engine)
    with committed_db.session() as session:
        for path in (CAMPAIGN_FILE, SECOND_CAMPAIGN_FILE):
            load_campaign(session, path)
    return committed_db


def test_every_mail_reaches_only_whom_the_rule_allows_across_two_campaigns(
    clean_slate: Services, settings: Settings, start_worker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    committed_db = clean_slate
    crowd = people()
    with sendgrid_stub() as stub, running(CongressStub()) as congress:
        replay = BillReplay(congress, ("119", "hr", "2661"))  # type: ignore[arg-type]
        replay.show("in_committee")
        e2e = mail_settings(
            settings, stub, namespace=f"{settings.namespace}-audience",
            congress_api_url=congress.api_url, congress_api_key=API_KEY,  # type: ignore[attr-defined]
            bill_poll_seconds=1, reminder_sweep_seconds=1.0, reminder_cap_per_week=10,
            delivery_sweep_seconds=1.0, sendgrid_webhook_public_key=PUBLIC_KEY,
            **quiet_in_hawaii_only())
        with committed_db.session() as session:
            _row, organizer = create_api_token(session, "e2e organizer", "organizer")
            # Erasing is a console action: API tokens open /api/v1 only (issue 22).
            create_user(session, ADMIN, ADMIN_PASSWORD, "admin")
        with web_processes(e2e, tmp_path / "web.log", workers=1) as (port, _master):
            base = f"http://127.0.0.1:{port}"
            start_worker(e2e)
            beats = [BeatProcess(e2e, tmp_path / name) for name in ("beat-a", "beat-b")]
            try:
                api = Api(base, organizer)
                waves = {"A senate wave": api.wave(A, "On passage: your senators", {
                    "chamber": "senate"}, trigger="stage", trigger_stage="passed_house")}
                wait_for(lambda: count(committed_db, BillStageTransition) >= 1, timeout=60,
                         message="the first poll of H.R. 2661")
                submit_everyone(api, crowd)
                wait_for(lambda: len(mails(stub, "confirmation")) == sum(
                    len(p.actions) for p in crowd), timeout=120, interval=0.5,
                    message="a confirmation for every action")
                withdraw(committed_db, api, stub, crowd)
                withdraw_after_planning(committed_db, api, stub, crowd)
                wait_until_calls_planned(committed_db, crowd)
                three_days_pass(committed_db)
                waves["A wave"] = api.wave(A, "Everyone on A", {})
                waves["B wave"] = api.wave(B, "Everyone on B", {})
                for name in ("A wave", "B wave"):
                    api.launch(waves[name])
                replay.show("passed_house")
                expected = {p.email: p.group.expected() for p in crowd}
                total = sum(sum(c.values()) for c in expected.values())
                wait_for(lambda: len(non_transactional(stub)) >= total, timeout=180,
                         interval=0.5, message=f"{total} wave and reminder mails")
                time.sleep(5)  # beat keeps sweeping: nothing more may come
            finally:
                for beat in beats:
                    beat.stop()
        received = what_each_got(committed_db, stub, waves)
        deferred = deferred_calls(committed_db)

    report(crowd, expected, received, stub)
    assert received == {email: c for email, c in expected.items() if c}, "mails differ"
    excluded = [p for p in crowd if not p.group.eligible(A) and not p.group.eligible(B)]
    assert sum(sum(received.get(p.email, Counter()).values()) for p in excluded) == 0
    confirmations = Counter(m.to for m in mails(stub, "confirmation"))
    assert confirmations == {p.email: len(p.actions) for p in crowd}
    # Hawaii's calls wait for Hawaii's morning (their state came from the ZIP, never Eastern).
    assert deferred == {p.email for p in crowd if p.group.quiet}
    for mail in non_transactional(stub):
        person = next(p for p in crowd if p.email == mail.to)
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in mail.subject)
        assert chinese == (person.locale == "zh-Hant"), mail.subject
        assert "List-Unsubscribe" in mail.headers and "/u/" in mail.text


class Api:
    """The public API and the organizer's, over HTTP."""

    def __init__(self, base: str, organizer: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.organizer = {"Authorization": f"Bearer {organizer}"}
        self.admin: requests.Session | None = None

    def erase(self, supporter_id: int) -> None:
        """An admin erases a supporter in the console (signed in, with the form's CSRF token)."""
        if self.admin is None:
            self.admin = requests.Session()
            page = self.admin.get(f"{self.base}/console/login", timeout=10).text
            csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
            signed = self.admin.post(f"{self.base}/console/login", timeout=10, data={
                "email": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": csrf},
                allow_redirects=False)
            assert signed.status_code == 302, signed.text
        page = self.admin.get(f"{self.base}/console/", timeout=10).text  # the sign-out form
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        answer = self.admin.post(f"{self.base}/console/supporters/{supporter_id}/erase",
                                 data={"csrf_token": csrf}, timeout=10, allow_redirects=False)
        assert answer.status_code == 302, answer.text

    def act(self, campaign: str, person: Person, consent: bool) -> str:
        fields = {"email": person.email, "first_name": "Pat", "last_name": person.group.name,
                  "zip": person.group.zip, "locale": person.locale, "consent": consent}
        if person.group.state:
            fields["state"] = person.group.state
        answer = self.http.post(f"{self.base}/api/v1/campaigns/{campaign}/actions", json=fields,
                                timeout=10)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def wave(self, campaign: str, name: str, segment: dict[str, str], **trigger: str) -> int:
        answer = self.http.post(f"{self.base}/api/v1/waves", headers=self.organizer, timeout=10,
                                json={"campaign": campaign, "name": name, "segment": segment,
                                      **trigger})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def launch(self, wave_id: int) -> None:
        answer = self.http.post(f"{self.base}/api/v1/waves/{wave_id}/launch",
                                headers=self.organizer, timeout=10)
        assert answer.status_code == 200, answer.text

    def post(self, url: str, **kwargs: object) -> requests.Response:
        """POST to ``url`` (a link from a mail, whatever host it names) on the web under test."""
        answer = self.http.post(self.base + urlsplit(url).path, timeout=10,
                                **kwargs)  # type: ignore[arg-type]
        assert answer.status_code in (200, 302), answer.text
        return answer


def submit_everyone(api: Api, crowd: list[Person]) -> None:
    for person in crowd:
        for campaign in person.group.acted:
            person.actions[campaign] = api.act(campaign, person,
                                               consent=campaign in person.group.consented)


def mails(stub, kind: str) -> list[Accepted]:  # type: ignore[no-untyped-def]
    return [m for m in stub.accepted if m.key.startswith(f"{kind}:")]


def non_transactional(stub) -> list[Accepted]:  # type: ignore[no-untyped-def]
    return [m for m in stub.accepted if not m.key.startswith("confirmation:")]


def unsubscribe_link(stub, person: Person, campaign: str) -> str:  # type: ignore[no-untyped-def]
    """The https link of ``List-Unsubscribe`` in the confirmation of their ``campaign`` action."""
    [mail] = [m for m in mails(stub, "confirmation")
              if m.key == f"confirmation:{person.actions[campaign]}"]
    return mail.headers["List-Unsubscribe"].split(", ")[0].strip("<>")


def withdraw(services: Services, api: Api, stub,  # type: ignore[no-untyped-def]
             crowd: list[Person]) -> None:
    """What the supporters do once confirmed, each through the door a real one would use."""
    with services.session() as session:
        ids = dict(session.execute(select(Supporter.email, Supporter.id)).all())
    events = []
    for person in crowd:
        then = person.group.then
        if then == "withdraw_a":  # the mail client's one-click, RFC 8058
            api.post(unsubscribe_link(stub, person, A), data="List-Unsubscribe=One-Click",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        elif then == "stop_all":  # the page's other button, from campaign B's mail
            api.post(unsubscribe_link(stub, person, B), data={"scope": "all"})
        elif then in ("bounce", "spamreport"):
            events.append({"email": person.email, "event": then, "sg_event_id": uuid.uuid4().hex,
                           "timestamp": int(time.time()), "reason": "550 5.1.1 no such user"})
        elif then == "erase":  # an admin, on the supporter's request
            api.erase(ids[person.email])
    payload = json.dumps(events)
    stamp = str(int(time.time()))
    signature = KEY.sign((stamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    answer = api.http.post(f"{api.base}/webhooks/sendgrid", data=payload, timeout=10, headers={
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp})
    assert answer.status_code == 200 and answer.json()["suppressed"] == len(events), answer.text


def planned_calls(services: Services) -> set[tuple[str, str]]:
    with services.session() as session:
        rows = session.execute(text(
            "SELECT s.email, c.slug FROM reminders r JOIN supporters s ON s.id = r.supporter_id"
            " JOIN campaigns c ON c.id = r.campaign_id"
            " WHERE r.kind = 'ask_to_call' AND r.cancelled_at IS NULL")).all()
    return {(email, slug) for email, slug in rows}


def withdraw_after_planning(services: Services, api: Api, stub,  # type: ignore[no-untyped-def]
                            crowd: list[Person]) -> None:
    """Their "ask to call" reminder is planned; then they unsubscribe from A's mail."""
    late = [p for p in crowd if p.group.then == "withdraw_a_after_planning"]
    wait_for(lambda: {(p.email, A) for p in late} <= planned_calls(services), timeout=60,
             interval=0.5, message="the reminders of those who withdraw after planning")
    for person in late:
        api.post(unsubscribe_link(stub, person, A), data="List-Unsubscribe=One-Click",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})


def wait_until_calls_planned(services: Services, crowd: list[Person]) -> None:
    """Every call reminder the ledger expects is planned (a few more sweeps for stragglers)."""
    due = {(p.email, campaign) for p in crowd for campaign in (A, B)
           if p.group.eligible(campaign) and campaign in p.group.acted and p.group.house}
    wait_for(lambda: due <= planned_calls(services), timeout=60, interval=0.5,
             message="the call reminders planned")
    time.sleep(3)


def three_days_pass(services: Services) -> None:
    """The planned "ask to call" reminders fall due (they wait CALL_AFTER, three days)."""
    with services.session() as session:
        session.execute(text(
            "UPDATE reminders SET due_at = now() - interval '1 minute'"
            " WHERE kind = 'ask_to_call' AND sent_at IS NULL AND cancelled_at IS NULL"))
        session.commit()


def deferred_calls(services: Services) -> set[str]:
    """Who has an "ask to call" reminder due but moved to later (quiet hours)."""
    with services.session() as session:
        return set(session.scalars(text(
            "SELECT s.email FROM reminders r JOIN supporters s ON s.id = r.supporter_id"
            " WHERE r.kind = 'ask_to_call' AND r.sent_at IS NULL AND r.cancelled_at IS NULL"
            " AND r.due_at > now()")))


def count(services: Services, model: type) -> int:
    with services.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def what_each_got(services: Services, stub, waves: dict[str, int]) -> dict[str, Counter[str]]:  # type: ignore[no-untyped-def]
    """Each supporter's wave and reminder mails at SendGrid, by kind."""
    wave_names = {wave_id: name for name, wave_id in waves.items()}
    with services.session() as session:
        reminders = {f"reminder:{ident}": (kind, slug) for ident, kind, slug in session.execute(
            text("SELECT r.id, r.kind, c.slug FROM reminders r"
                 " JOIN campaigns c ON c.id = r.campaign_id"))}
        assert session.scalar(select(func.count()).select_from(Action).where(
            Action.status == "accepted")) == 0
        assert session.scalar(select(func.count()).select_from(Reminder)) > 0
        assert session.scalar(select(func.count()).select_from(Supporter)) > 0
    received: dict[str, Counter[str]] = {}
    for mail in non_transactional(stub):
        if mail.key.startswith("wave:"):
            kind = wave_names[int(mail.key.split(":")[1])]
        else:
            reminder_kind, slug = reminders[mail.key]
            tag = "A" if slug == A else "B"
            kind = f"{tag} call" if reminder_kind == "ask_to_call" else f"{tag} write senators"
        received.setdefault(mail.to, Counter())[kind] += 1
    return received


def report(crowd: list[Person], expected: dict[str, Counter[str]],
           received: dict[str, Counter[str]], stub) -> None:  # type: ignore[no-untyped-def]
    """Mails per group, received/expected, printed for the note (``pytest -s``)."""
    confirmations = Counter(m.to for m in mails(stub, "confirmation"))
    print(f"\n{'group':28} {'n':>2} {'conf':>5} " + " ".join(f"{k:>16}" for k in NON_TRANSACTIONAL))
    for group in GROUPS:
        members = [p for p in crowd if p.group is group]
        got = sum((received.get(p.email, Counter()) for p in members), Counter())
        want = sum((expected[p.email] for p in members), Counter())
        cells = " ".join(f"{got[k]:>7}/{want[k]:<8}" for k in NON_TRANSACTIONAL)
        confirmed = sum(confirmations[p.email] for p in members)
        print(f"{group.name:28} {len(members):>2} {confirmed:>5} {cells}")
    excluded = [p for p in crowd if not p.group.eligible(A) and not p.group.eligible(B)]
    print(f"supporters excluded from every campaign's mail: {len(excluded)}; mails they got: "
          f"{sum(sum(received.get(p.email, Counter()).values()) for p in excluded)}")
