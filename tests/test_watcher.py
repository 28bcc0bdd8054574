"""The bill watcher end to end: congress.gov stub -> actions -> transitions -> posts and waves."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from actionwave.bill.budget import RequestBudget
from actionwave.bill.congress_api import BillRef, CongressGovClient
from actionwave.bill.models import BillPoll, BillStageTransition
from actionwave.bill.watcher import (
    announce_transitions,
    detect_transitions,
    fingerprint,
    poll_campaign_bill,
    record_bill_actions,
)
from actionwave.campaigns.reactions import react_to_transitions
from actionwave.core.counters import read_counters
from actionwave.core.models import BillAction, Campaign, Delivery, Wave
from actionwave.platform.config import Settings
from actionwave.social.x_poster import XPoster
from actionwave.system.services import Services
from actionwave.waves.launch import create_wave, fan_out_wave, waves_to_fan_out
from tests.stubs.congress import API_KEY, BillReplay, CongressStub, recorded_bills, running
from tests.stubs.x import XStub
from tests.support import consent_everyone, wait_for

REPLAY = ("introduced", "in_committee", "passed_house", "received_in_senate")
STAGE_TRIGGERS = ("introduced", "in_committee:house", "passed_house", "in_committee:senate")
SUPPORTERS = 50


@pytest.fixture
def congress() -> Iterator[CongressStub]:
    with running(CongressStub()) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def x_api() -> Iterator[XStub]:
    with running(XStub()) as server:
        yield server  # type: ignore[misc]


def test_house_and_library_of_congress_reports_share_a_fingerprint() -> None:
    actions = recorded_bills()[("117", "hr", "21")]["actions"]
    house = next(a for a in actions if a.get("actionCode") == "H37300")
    library = next(a for a in actions if a.get("actionCode") == "8000")
    assert fingerprint(house) == fingerprint(library)


def test_each_action_is_stored_once_across_sources_and_polls(db_session) -> None:  # type: ignore[no-untyped-def]
    actions = recorded_bills()[("117", "hr", "3076")]["actions"]
    bill = BillRef(117, "hr", 3076)
    first = record_bill_actions(db_session, bill, actions)
    again = record_bill_actions(db_session, bill, actions)
    stored = db_session.scalars(select(BillAction).where(BillAction.bill_number == 3076)).all()
    assert again == 0 and first == len(stored)
    assert len(stored) < len(actions)  # duplicates across source systems collapsed
    law = [a for a in stored if a.stage == "became_law"]
    assert len(law) == 2  # "Became Public Law" and "Signed by President", each once
    presented = [a for a in stored if a.stage == "to_president"]
    assert len(presented) == 1 and presented[0].action_code == "28000"


def test_each_poll_is_counted_by_outcome(committed_db: Services, campaign_slug: str,
                                        congress: CongressStub) -> None:
    campaign_id = _seed(committed_db, campaign_slug)
    BillReplay(congress, ("119", "hr", "2661")).show("introduced")
    source = CongressGovClient(congress.api_url, API_KEY, RequestBudget(100))
    with committed_db.session() as session:
        poll_campaign_bill(session, campaign_id, source)  # new actions
        poll_campaign_bill(session, campaign_id, source)  # nothing new
        congress.fail_with_429(times=5, retry_after=600)
        assert poll_campaign_bill(session, campaign_id, source).outcome == "failed"
        assert read_counters(session, "bill_polls") == {"changed": 1, "unchanged": 1,
                                                        "failed": 1}


def _seed(services: Services, slug: str) -> int:
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
        session.execute(text(
            "INSERT INTO supporters (email, first_name, last_name, state, zip, district, locale,"
            " created_at, updated_at) SELECT 'w' || g || '@example.org', 'W', 'S',"
            " 'CA', '94110', 11, 'en', now(), now() FROM generate_series(1, :n) g"
        ), {"n": SUPPORTERS})
        consent_everyone(session, slug)
        for trigger in STAGE_TRIGGERS:
            create_wave(session, campaign_id, f"on {trigger}", trigger="stage",
                        trigger_stage=trigger)
        session.commit()
    return campaign_id


def _watch(services: Services, settings: Settings, campaign_id: int, congress: CongressStub,
           x_api: XStub, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    """One scheduler's turn: poll, announce, fan out (what the beat-fired tasks do)."""
    try:
        source = CongressGovClient(congress.api_url, API_KEY, RequestBudget(100))
        poster = XPoster(settings)
        barrier.wait()
        with services.session() as session:
            poll_campaign_bill(session, campaign_id, source)
            react_to_transitions(session, campaign_id)
            announce_transitions(session, campaign_id, poster, settings.public_url)
            for wave_id in waves_to_fan_out(session):
                fan_out_wave(session, wave_id, chunk_size=7)
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


def test_replayed_bill_gives_one_transition_post_and_wave_per_stage_with_two_schedulers(
    committed_db: Services, campaign_slug: str, settings: Settings, congress: CongressStub,
    x_api: XStub,
) -> None:
    campaign_id = _seed(committed_db, campaign_slug)
    replay = BillReplay(congress, ("119", "hr", "2661"))
    x_settings = Settings.from_env({}, instance_path=settings.instance_path, x_api_url=x_api.url,
                                   x_consumer_key="k", x_consumer_secret="s",
                                   x_access_token="t", x_access_token_secret="ts")
    for step, state in enumerate(REPLAY, start=1):
        replay.show(state)
        barrier, errors = threading.Barrier(2), []
        schedulers = [threading.Thread(target=_watch, args=(
            committed_db, x_settings, campaign_id, congress, x_api, barrier, errors))
            for _ in range(2)]
        for thread in schedulers:
            thread.start()
        for thread in schedulers:
            thread.join(timeout=60)
        assert not errors, errors
        with committed_db.session() as session:
            transitions = session.scalars(select(BillStageTransition).order_by(
                BillStageTransition.id)).all()
            started = session.scalars(select(Wave).where(Wave.status == "running")).all()
            per_supporter = session.execute(
                select(Delivery.wave_id, Delivery.supporter_id, func.count())
                .group_by(Delivery.wave_id, Delivery.supporter_id)).all()
        assert len(transitions) == step, state
        assert len(x_api.posts) == step and x_api.state["attempts"] == step
        assert len(started) == step
        assert all(t.posted_at is not None for t in transitions)
        assert len(per_supporter) == step * SUPPORTERS
        assert {count for *_, count in per_supporter} == {1}
    assert [(t.stage, t.chamber) for t in transitions] == [
        ("introduced", "house"), ("in_committee", "house"), ("passed_house", "house"),
        ("in_committee", "senate")]
    assert "H.R. 2661 passed the House" in x_api.posts[2]


def test_first_poll_of_a_bill_that_already_moved_announces_only_its_latest_stage(
    committed_db: Services, campaign_slug: str, settings: Settings, congress: CongressStub,
    x_api: XStub,
) -> None:
    campaign_id = _seed(committed_db, campaign_slug)
    BillReplay(congress, ("119", "hr", "2661")).show("received_in_senate")
    source = CongressGovClient(congress.api_url, API_KEY, RequestBudget(100))
    poster = XPoster(Settings.from_env(
        {}, instance_path=settings.instance_path, x_api_url=x_api.url, x_consumer_key="k",
        x_consumer_secret="s", x_access_token="t", x_access_token_secret="ts"))
    for _ in range(2):  # a repeated poll changes nothing
        with committed_db.session() as session:
            poll_campaign_bill(session, campaign_id, source)
            react_to_transitions(session, campaign_id)
            announce_transitions(session, campaign_id, poster, settings.public_url)
    with committed_db.session() as session:
        transitions = session.scalars(select(BillStageTransition).order_by(
            BillStageTransition.action_date, BillStageTransition.id)).all()
        started = session.scalars(select(Wave.trigger_stage).where(Wave.status == "running"))
        assert [(t.stage, t.chamber, t.history) for t in transitions] == [
            ("introduced", "house", True), ("in_committee", "house", True),
            ("passed_house", "house", True), ("in_committee", "senate", False)]
        assert list(started) == ["in_committee:senate"]
    assert len(x_api.posts) == 1 and "H.R. 2661 in committee in the Senate" in x_api.posts[0]


def test_a_bill_passed_and_received_the_same_day_stands_in_the_second_chamber(
    db_session, campaign_slug: str,  # type: ignore[no-untyped-def]
) -> None:
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    bill = BillRef(119, "hr", 2661)
    record_bill_actions(db_session, bill, [  # newest first, as congress.gov lists them
        {"actionDate": "2025-09-23", "text": "Received in the Senate and Read twice and referred "
                                             "to the Committee on Foreign Relations."},
        {"actionDate": "2025-09-23", "text": "Passed/agreed to in House: On motion to suspend "
                                             "the rules and pass the bill Agreed to by the Yeas "
                                             "and Nays: (2/3 required): 413 - 3."},
    ])
    announced = detect_transitions(db_session, campaign_id, bill)
    assert [t.stage.key for t in announced] == ["in_committee:senate"]


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Callable[[Settings, str], Path]]:
    """``start_beat(settings, name)`` runs a real ``actionwave beat`` (its own instance folder,
    as on its own machine); returns its log. All are stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(beat_settings: Settings, name: str) -> Path:
        instance = tmp_path / name
        instance.mkdir()
        log = instance / "beat.log"
        env = {**os.environ, **replace(beat_settings, instance_path=instance).to_env()}
        with log.open("wb") as out:
            started.append(subprocess.Popen([sys.executable, "-m", "actionwave", "beat"],
                                            env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True))
        return log

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_replay_with_two_real_beat_processes_fires_once_per_stage(
    committed_db: Services, campaign_slug: str, settings: Settings, congress: CongressStub,
    x_api: XStub, start_worker, start_beat,  # type: ignore[no-untyped-def]
) -> None:
    _seed(committed_db, campaign_slug)
    replay = BillReplay(congress, ("119", "hr", "2661"))
    beat_settings = replace(
        settings, namespace=f"{settings.namespace}-beats", bill_poll_seconds=1,
        congress_api_url=congress.api_url, congress_api_key=API_KEY, x_api_url=x_api.url,
        x_consumer_key="k", x_consumer_secret="s", x_access_token="t",
        x_access_token_secret="ts")
    start_worker(beat_settings)
    logs = [start_beat(beat_settings, name) for name in ("beat-a", "beat-b")]

    def reached(step: int) -> bool:
        with committed_db.session() as session:
            transitions = session.scalar(select(func.count()).select_from(BillStageTransition))
            launched = session.scalar(select(func.count()).where(Wave.launched_at.is_not(None)))
        return transitions == step and launched == step and len(x_api.posts) == step

    for step, state in enumerate(REPLAY, start=1):
        replay.show(state)
        wait_for(lambda step=step: reached(step), timeout=30, interval=0.2, message=state)
    polls = len(congress.state["requests"])
    wait_for(lambda: len(congress.state["requests"]) >= polls + 4, timeout=10,
             message="more polls of the last state")
    assert reached(len(REPLAY)) and x_api.state["attempts"] == len(REPLAY)
    firing = [log.read_text().count("Sending due task") for log in logs]
    assert sorted(firing)[0] == 0 and sorted(firing)[1] > 0, firing  # one beat fires, one waits


def _beat_settings(settings: Settings, congress: CongressStub) -> Settings:
    return replace(settings, namespace=f"{settings.namespace}-beats", bill_poll_seconds=1,
                   congress_api_url=congress.api_url, congress_api_key=API_KEY,
                   congress_timeout_seconds=2)


def test_one_campaigns_bad_answer_never_stops_anothers_poll(
    committed_db: Services, campaign_slug: str, settings: Settings, congress: CongressStub,
    start_worker, start_beat,  # type: ignore[no-untyped-def]
) -> None:
    """H.R. 2661's campaign (polled first) gets an HTML page; the second campaign's bill,
    H.R. 21 as recorded, is polled at every tick all the same and its stage wave starts."""
    BillReplay(congress, ("119", "hr", "2661")).show("introduced")
    congress.fault("html", ("119", "hr", "2661"))
    with committed_db.session() as session:
        first = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
        second = Campaign(slug="second", title="Second", bill_congress=117, bill_type="hr",
                          bill_number=21)
        session.add(second)
        session.flush()
        wave = create_wave(session, second.id, "on the Senate", trigger="stage",
                           trigger_stage="in_committee:senate")
        session.commit()
        second_id, wave_id = second.id, wave.id
    assert first < second_id
    beat_settings = _beat_settings(settings, congress)
    start_worker(beat_settings)
    start_beat(beat_settings, "beat")

    def polled_twice() -> bool:
        with committed_db.session() as session:
            polls = {p.campaign_id: p for p in session.scalars(select(BillPoll))}
        return len(polls) == 2 and min(p.polls for p in polls.values()) >= 2

    wait_for(polled_twice, timeout=30, interval=0.2, message="both campaigns polled twice")
    with committed_db.session() as session:
        failing, working = session.get(BillPoll, first), session.get(BillPoll, second_id)
        assert (failing.error_kind, failing.last_success_at) == ("bad_answer", None)
        assert failing.failures == failing.polls and "text/html" in failing.error_message
        assert working.error_kind is None and working.failures == 0
        assert session.get(Wave, wave_id).launched_at is not None
        assert read_counters(session, "bill_polls")["failed"] >= 2


def test_retry_after_is_honoured_across_beat_ticks(
    committed_db: Services, campaign_slug: str, settings: Settings, congress: CongressStub,
    start_worker, start_beat,  # type: ignore[no-untyped-def]
) -> None:
    """A 429 asking for 12 s (longer than the client waits inline): beat ticks every second,
    yet congress.gov hears nothing more until the 12 s have passed."""
    BillReplay(congress, ("119", "hr", "2661")).show("introduced")
    congress.fail_with_429(1, retry_after=12)
    beat_settings = _beat_settings(settings, congress)
    start_worker(beat_settings)
    log = start_beat(beat_settings, "beat")

    def succeeded() -> bool:
        with committed_db.session() as session:
            return session.scalar(select(BillPoll.last_success_at)) is not None

    wait_for(succeeded, timeout=45, interval=0.2, message="a poll after the wait")
    first, second = congress.state["times"][:2]
    assert second - first >= 11.5, second - first
    assert log.read_text().count("Sending due task") >= 8  # ticks came, and waited
    with committed_db.session() as session:
        last = session.scalar(select(BillPoll))
        assert (last.polls, last.failures, last.outcome) == (2, 1, "changed")


def test_a_worker_polls_the_bill_and_the_campaign_reacts_in_a_task_of_its_own(
    worker_store: Services, congress: CongressStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    """Beat's ``poll_bills`` on a real worker records the stage; ``react_to_bill``, which it asks
    for, starts the wave bound to that stage."""
    from workers.celery_app import create_celery

    with worker_store.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(
            Campaign.slug == "hketo-certification-act"))
        create_wave(session, campaign_id, "on introduced", trigger="stage",
                    trigger_stage="introduced")
        session.commit()
    BillReplay(congress, ("119", "hr", "2661")).show("introduced")
    own = replace(worker_store.settings, congress_api_url=congress.api_url,
                  congress_api_key=API_KEY)
    start_worker(own)
    app = create_celery(own)
    app.send_task("actionwave.poll_bills")

    def reacted() -> bool:
        with worker_store.session() as session:
            transitions = session.scalars(select(BillStageTransition).where(
                BillStageTransition.campaign_id == campaign_id)).all()
            running_waves = session.scalars(select(Wave).where(Wave.status == "running")).all()
        return (len(transitions) == 1 and transitions[0].reacted_at is not None
                and [w.trigger_stage for w in running_waves] == ["introduced"])

    wait_for(reacted, timeout=60, message="the stage's wave to start")
    app.close()
