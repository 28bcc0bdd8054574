"""The console's campaign, template, wave, bill and coverage pages, and the embeddable steps:
who may see and change what, CSRF, validation shown at the field, and the changes they make."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from actionwave.bill.models import BillStageTransition
from actionwave.core.models import BillAction, Campaign, MessageTemplate, Wave
from actionwave.messages.models import TargetAddress
from tests.test_console import PASSWORD, csrf, sign_in

SLUG = "hketo-certification-act"
EDITOR = f"/console/campaigns/{SLUG}/templates/email/default"
PAGES = ["/console/campaigns", f"/console/campaigns/{SLUG}", EDITOR, "/console/waves",
         "/console/waves/live", "/console/bill", "/console/coverage"]
# (path, the least role that may post)
CHANGES = [(f"/console/campaigns/{SLUG}/copy/en", "organizer"), (EDITOR, "organizer"),
           (f"{EDITOR}/preview", "viewer"), ("/console/waves", "organizer"),
           ("/console/waves/1/launch", "organizer"), ("/console/waves/1/pause", "organizer"),
           ("/console/waves/1/resume", "organizer"), ("/console/waves/1/cancel", "organizer"),
           ("/console/coverage/addresses", "organizer")]


@pytest.fixture
def accounts(committed_db, campaign_slug):  # type: ignore[no-untyped-def]
    from actionwave.accounts.services import create_user

    with committed_db.session() as session:
        for role in ("viewer", "organizer", "admin"):
            create_user(session, f"{role}@example.org", PASSWORD, role)
    return committed_db


def english_body(services) -> str:  # type: ignore[no-untyped-def]
    with services.session() as session:
        return session.scalar(select(MessageTemplate.body).join(Campaign).where(
            Campaign.slug == SLUG, MessageTemplate.kind == "email",
            MessageTemplate.locale == "en"))


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_sees_nothing(client, accounts, path: str):
    response = client.get(path)
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


@pytest.mark.parametrize(("path", "role"), CHANGES)
def test_anonymous_cannot_post(client, accounts, path: str, role: str):
    response = client.post(path, data={"csrf_token": csrf(client)})
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_viewer_sees_every_page(client, accounts, path: str):
    sign_in(client, "viewer")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(("path", "role"), [c for c in CHANGES if c[1] == "organizer"])
def test_viewer_cannot_change_anything(client, accounts, path: str, role: str):
    sign_in(client, "viewer")
    assert client.post(path, data={"csrf_token": csrf(client)}).status_code == 403


@pytest.mark.parametrize(("path", "role"), CHANGES)
def test_every_post_needs_the_csrf_token(client, accounts, path: str, role: str):
    sign_in(client, "organizer")
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400


def test_viewer_sees_templates_read_only_without_a_save_button(client, accounts):
    sign_in(client, "viewer")
    page = client.get(EDITOR).get_data(as_text=True)
    assert "readonly" in page and ">Save<" not in page and ">Preview<" in page


def test_preview_renders_both_locales_for_the_sample_and_saves_nothing(client, accounts):
    sign_in(client, "viewer")
    before = english_body(accounts)
    response = client.post(f"{EDITOR}/preview", data={
        "csrf_token": csrf(client), "chamber": "senate",
        "subject-en": "Hello {{ legislator.name }}", "body-en": "Dear {{ legislator.title }} "
        "{{ legislator.name }}, from {{ supporter.first_name }} of {{ supporter.city }}.",
        "subject-zh-Hant": "你好",
        "body-zh-Hant": "{{ legislator.title }} {{ legislator.name }} 您好"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dear Sen. " in page and "from Mei of Cheyenne." in page and "Sen. " in page
    assert "您好" in page
    assert english_body(accounts) == before


def test_preview_fragment_is_only_the_preview(client, accounts):
    sign_in(client, "organizer")
    response = client.post(f"{EDITOR}/preview", headers={"X-Preview-Fragment": "1"}, data={
        "csrf_token": csrf(client), "subject-en": "S", "body-en": "Hi {{ supporter.first_name }}",
        "subject-zh-Hant": "", "body-zh-Hant": ""})
    page = response.get_data(as_text=True)
    assert "Hi Mei" in page and "<html" not in page and "No text in this language." in page


def test_a_broken_template_is_refused_with_the_field_and_line(client, accounts):
    sign_in(client, "organizer")
    before = english_body(accounts)
    response = client.post(EDITOR, data={
        "csrf_token": csrf(client), "subject-en": "Fine",
        "body-en": "one\ntwo\n{{ supporter.email }}",
        "subject-zh-Hant": "好", "body-zh-Hant": "{% if %}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="body-en-err">line 3: unknown variable &#39;supporter.email&#39;' in page
    assert 'id="body-zh-Hant-err">line 1:' in page
    assert 'aria-describedby="body-en-err"' in page
    assert english_body(accounts) == before


def test_organizer_saves_a_template_in_both_locales(client, accounts):
    sign_in(client, "organizer")
    response = client.post(EDITOR, data={
        "csrf_token": csrf(client), "subject-en": "New {{ bill.label }}",
        "body-en": "Dear {{ legislator.name }}, please {{ ask }}\r\n",
        "subject-zh-Hant": "新", "body-zh-Hant": "{{ legislator.name }}：{{ ask }}\n"})
    assert response.status_code == 302
    assert english_body(accounts) == "Dear {{ legislator.name }}, please {{ ask }}\n"


def test_organizer_edits_page_copy_and_the_public_page_shows_it(client, accounts):
    sign_in(client, "organizer")
    response = client.post(f"/console/campaigns/{SLUG}/copy/en", data={
        "csrf_token": csrf(client), "title": "Close the offices", "lede": "A new lede.",
        "ask_house": "co-sponsor it.", "ask_senate": "introduce it.", "email_body": "Please.",
        "why": "First reason.\n\nSecond\nreason."})
    assert response.status_code == 302
    with accounts.session() as session:
        copy = session.scalar(select(Campaign).where(Campaign.slug == SLUG)).content
    assert copy["en"]["why"] == ["First reason.", "Second reason."]
    assert copy["en"]["why_title"] and copy["zh-Hant"]["title"].startswith("支持")
    assert "Close the offices" in client.get(f"/c/{SLUG}").get_data(as_text=True)
    empty = client.post(f"/console/campaigns/{SLUG}/copy/en",
                        data={"csrf_token": csrf(client), "title": ""})
    assert empty.status_code == 400 and 'id="copy-en-title-err"' in empty.get_data(as_text=True)


def test_organizer_creates_schedules_and_controls_waves(client, accounts):
    sign_in(client, "organizer")
    bad = client.post("/console/waves", data={"csrf_token": csrf(client), "name": "x",
                                              "states": "California"})
    assert bad.status_code == 400 and "segment.states" in bad.get_data(as_text=True)
    created = client.post("/console/waves", data={
        "csrf_token": csrf(client), "name": "Senators, CA", "states": "ca, ny",
        "chamber": "senate", "acted": "no", "since": "2026-01-01T00:00", "trigger": "manual"})
    assert created.status_code == 302
    client.post("/console/waves", data={"csrf_token": csrf(client), "name": "At noon",
                                        "trigger": "time", "trigger_at": "2030-05-01T12:00"})
    client.post("/console/waves", data={"csrf_token": csrf(client), "name": "On passage",
                                        "trigger": "stage", "trigger_stage": "passed_senate"})
    with accounts.session() as session:
        waves = {w.name: w for w in session.scalars(select(Wave))}
    manual = waves["Senators, CA"]
    assert manual.segment == {"states": ["CA", "NY"], "chamber": "senate", "acted": False,
                              "since": "2026-01-01T00:00:00+00:00"}
    assert waves["At noon"].status == "scheduled"
    assert waves["At noon"].trigger_at.isoformat() == "2030-05-01T12:00:00+00:00"
    assert waves["On passage"].trigger_stage == "passed_senate"
    base = f"/console/waves/{manual.id}"
    for change, status in (("launch", "running"), ("pause", "paused"), ("resume", "running"),
                           ("cancel", "cancelled")):
        client.post(f"{base}/{change}", data={"csrf_token": csrf(client)})
        with accounts.session() as session:
            assert session.get(Wave, manual.id).status == status
    refused = client.post(f"{base}/launch", data={"csrf_token": csrf(client)},
                          follow_redirects=True)
    assert "can&#39;t launch" in refused.get_data(as_text=True)
    listing = client.get("/console/waves").get_data(as_text=True)
    assert 'id="progress-' in listing and "Senators, CA" in listing


def test_bill_page_shows_stages_and_raw_actions(client, accounts):
    with accounts.session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == SLUG))
        session.add(BillStageTransition(campaign_id=campaign.id, stage="in_committee",
                                        chamber="house", action_date=date(2025, 4, 3),
                                        action_text="Referred to the House Committee on "
                                                    "Foreign Affairs."))
        session.add(BillAction(congress=119, bill_type="hr", bill_number=2661,
                               action_date=date(2025, 4, 3), action_code="H11100",
                               text="Referred to the House Committee on Foreign Affairs.",
                               source_system="House floor actions", stage="in_committee:house",
                               fingerprint="f1", raw={"actionCode": "H11100"}))
        session.commit()
    sign_in(client, "viewer")
    page = client.get("/console/bill").get_data(as_text=True)
    assert "2025-04-03" in page and "H11100" in page and '"actionCode": "H11100"' in page
    assert 'class="reached"' in page and "passed the Senate" in page


def test_coverage_lists_legislators_without_a_channel_and_an_address_fixes_one(client,
                                                                               accounts):
    sign_in(client, "organizer")
    page = client.get("/console/coverage?show=contact_form").get_data(as_text=True)
    bioguide = page.split('id="leg-', 1)[1].split('"', 1)[0]
    bad = client.post("/console/coverage/addresses", data={
        "csrf_token": csrf(client), "bioguide_id": bioguide, "email": "not an address"})
    assert bad.status_code == 400 and 'id="address-error"' in bad.get_data(as_text=True)
    added = client.post("/console/coverage/addresses", data={
        "csrf_token": csrf(client), "bioguide_id": bioguide, "email": "staff@mail.house.gov",
        "show": "email"}, follow_redirects=True)
    assert f'id="leg-{bioguide}"' in added.get_data(as_text=True)
    assert "staff@mail.house.gov" in added.get_data(as_text=True)
    with accounts.session() as session:
        assert session.scalar(select(TargetAddress.email)) == "staff@mail.house.gov"


def test_embed_may_be_framed_only_by_allowed_origins(make_embed_app, campaign_slug,
                                                     committed_db):
    framed = make_embed_app(embed_allowed_origins="https://partner.example").test_client()
    response = framed.get(f"/embed/c/{campaign_slug}")
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200
    assert "frame-ancestors https://partner.example" in policy
    assert "X-Frame-Options" not in response.headers
    public = framed.get(f"/c/{campaign_slug}")
    assert "frame-ancestors 'none'" in public.headers["Content-Security-Policy"]
    assert public.headers["X-Frame-Options"] == "DENY"
    closed = make_embed_app().test_client().get(f"/embed/c/{campaign_slug}")
    assert "frame-ancestors 'none'" in closed.headers["Content-Security-Policy"]


def test_embedded_form_submits_with_its_signed_token_and_stays_in_the_frame(app, client,
                                                                             campaign_slug,
                                                                             committed_db):
    page = client.get(f"/embed/c/{campaign_slug}?zip=82001").get_data(as_text=True)
    assert f'action="/embed/c/{campaign_slug}"' in page
    assert f'action="/embed/c/{campaign_slug}/act"' in page
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    fields = {"first_name": "Mei", "last_name": "Chan", "email": "mei@example.org",
              "zip": "82001", "consent": "true"}
    client = app.test_client()  # a framed page gets none of our cookies: a fresh client
    forged = client.post(f"/embed/c/{campaign_slug}/act", data={**fields, "csrf_token": "x"})
    assert forged.status_code == 400
    other = client.post(f"/embed/c/{campaign_slug}-other/act", data={**fields,
                                                                     "csrf_token": token})
    assert other.status_code == 404
    sent = client.post(f"/embed/c/{campaign_slug}/act", data={**fields, "csrf_token": token})
    assert sent.status_code == 302
    assert sent.headers["Location"].startswith(f"/embed/c/{campaign_slug}/thanks?action=")


def test_console_campaign_page_shows_the_embed_snippet(client, accounts):
    sign_in(client, "viewer")
    page = client.get(f"/console/campaigns/{SLUG}").get_data(as_text=True)
    assert f'/static/embed.js" data-campaign="{SLUG}"' in page.replace("&#34;", '"')
    assert f"/embed/c/{SLUG}" in page and "&lt;iframe" in page and "&lt;script" in page


@pytest.fixture
def make_embed_app(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from actionwave.system.services import Services
    from web import create_app

    made: list[Services] = []

    def make(**changes: object):  # type: ignore[no-untyped-def]
        changed = replace(settings, **changes)
        made.append(Services(changed))
        return create_app(changed, made[-1])

    yield make
    for services in made:
        services.close()
