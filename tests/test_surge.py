"""Intake first: during a surge the relay leaves new actions in the outbox for a while, and takes
every one of them, once, when the surge ebbs or they have waited long enough."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from actionwave.core.models import OutboxMessage
from actionwave.intake.outbox import relay_outbox
from actionwave.intake.surge import ArrivalRate, SurgeHold
from actionwave.platform.config import MAX_SURGE_HOLD_SECONDS, Settings, SettingsError
from actionwave.system.services import Services
from tests.support import wait_for
from workers.relay import STALLED_AFTER, relay_until_stopped

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_arrival_rate_follows_the_newest_id() -> None:
    rate = ArrivalRate(keep_seconds=2.0)
    rate.observe(None, 0.0)
    for tick in range(1, 31):  # 100 new actions every 0.1 s for 3 s
        rate.observe(100 * tick, tick / 10)
    assert rate.per_second(0.5) == pytest.approx(1000)
    assert rate.per_second(2.0) == pytest.approx(1000)
    rate.observe(None, 3.5)  # nothing new since 3.0: slowing down
    assert rate.per_second(0.5) == 0
    assert 0 < rate.per_second(2.0) < 1000
    rate.observe(None, 6.0)
    assert rate.per_second(2.0) == 0  # nothing new for the whole window
    rate.discount(500)  # the relay queued 500 stalled actions again itself: not arrivals
    rate.observe(3500, 6.2)
    assert rate.per_second(0.5) == 0


def test_hold_starts_above_the_threshold_and_ends_below_half_of_it() -> None:
    hold = SurgeHold(threshold_per_s=300, hold_seconds=30)
    held, settled = NOW - timedelta(seconds=30), NOW - timedelta(seconds=1)
    newest, seen = 0, []
    for tick, per_s in enumerate([100] * 30 + [2000] * 30 + [200] * 30 + [100] * 30):
        newest += per_s // 10
        seen.append(hold.created_before(newest, tick / 10, NOW))
    calm, surge, easing, over = seen[:30], seen[30:60], seen[60:90], seen[90:]
    # 100/s is a third of the threshold: a second old, so the rate of its moment is known by then
    assert set(calm[1:]) == {settled}
    assert set(surge) == {held}  # a launch is held from the first poll that sees it
    assert set(easing) == {held}  # 200/s is above half of 300/s
    assert over[:5] == [held] * 5 and set(over[-5:]) == {settled}


def test_the_first_actions_of_a_launch_wait_with_the_rest() -> None:
    """Nothing a launch brings is published before the hold: it sees the launch within a second
    of its start, and until then only actions a second old are due."""
    hold = SurgeHold(threshold_per_s=300, hold_seconds=30)
    start = NOW
    newest = 0
    for tick in range(20):  # quiet, then 400 actions/s (just above the threshold) from t = 1.0
        arrived_per_poll = 80 if tick >= 5 else 0
        newest += arrived_per_poll
        now = start + timedelta(seconds=tick * 0.2)
        cutoff = hold.created_before(newest, tick * 0.2, now)
        if tick >= 5:  # before, nothing arrived to publish
            assert cutoff is not None and cutoff < start + timedelta(seconds=1.0)


def test_a_quiet_submission_is_not_held() -> None:
    """A few actions a second (under a tenth of the threshold) go out at the next poll."""
    hold = SurgeHold(threshold_per_s=300, hold_seconds=30)
    for tick in range(50):  # one action every 0.2 s: 5/s
        at = NOW + timedelta(seconds=tick * 0.2)
        assert hold.created_before(tick + 1, tick * 0.2, at) is None
    assert not hold.holding


def test_a_rising_rate_settles_before_it_holds() -> None:
    hold = SurgeHold(threshold_per_s=300, hold_seconds=30)
    hold.created_before(0, 0.0, NOW)
    assert hold.created_before(20, 0.5, NOW) == NOW - timedelta(seconds=1)  # 40/s: watching
    assert not hold.holding


def test_no_threshold_or_no_hold_never_holds() -> None:
    for hold in (SurgeHold(0, 30), SurgeHold(300, 0)):
        assert not hold.enabled
        assert hold.created_before(10**6, 1.0, NOW) is None


def test_hold_is_shorter_than_the_stalled_action_sweep() -> None:
    assert STALLED_AFTER.total_seconds() / 2 >= MAX_SURGE_HOLD_SECONDS
    with pytest.raises(SettingsError, match="SURGE_HOLD_SECONDS"):
        Settings.from_env({"SURGE_HOLD_SECONDS": "600"})


def add_messages(services: Services, count: int, created_at: datetime) -> None:
    with services.session() as session:
        session.execute(insert(OutboxMessage), [
            {"topic": "action.accepted", "ref": f"ref-{created_at.timestamp()}-{n}",
             "created_at": created_at} for n in range(count)])
        session.commit()


def test_relay_leaves_messages_created_after_the_cutoff(committed_db: Services) -> None:
    now = datetime.now(UTC)
    add_messages(committed_db, 3, now - timedelta(seconds=40))
    add_messages(committed_db, 2, now)
    published: list[str] = []
    relayed = relay_outbox(committed_db.session_factory, lambda topic, refs: published.extend(refs),
                           created_before=now - timedelta(seconds=30))
    assert relayed == len(published) == 3
    assert relay_outbox(committed_db.session_factory, lambda topic, refs: None,
                        created_before=now - timedelta(seconds=30)) == 0
    with committed_db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_relay_holds_a_surge_then_publishes_every_action_once(committed_db: Services) -> None:
    """A writer stores 50 actions every 0.05 s (about 1,000/s) for 3 s while the relay runs on
    PostgreSQL with a threshold of 200/s and a 1.5 s hold."""
    settings = replace(committed_db.settings, surge_submissions_per_s=200.0,
                       surge_hold_seconds=1.5, outbox_poll_seconds=0.05)
    services = Services(settings)
    published: list[tuple[float, str]] = []

    def publish(topic: str, refs: list[str]) -> None:
        published.extend((time.time(), ref) for ref in refs)

    created: dict[str, float] = {}
    stopping = threading.Event()
    relay = threading.Thread(target=relay_until_stopped, args=(services, publish, stopping))
    relay.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            at = datetime.now(UTC)
            add_messages(services, 50, at)
            created.update({f"ref-{at.timestamp()}-{n}": at.timestamp() for n in range(50)})
            time.sleep(0.05)
        surge_ended = time.time()
        wait_for(lambda: len(published) >= len(created), timeout=10,
                 message="every action published after the surge")
    finally:
        stopping.set()
        relay.join(timeout=10)
        services.close()
    refs = [ref for _, ref in published]
    assert sorted(refs) == sorted(created)  # each once, none lost
    # Once the surge was seen (after the first second), nothing newer than the hold went out
    # while it lasted; everything went within a few seconds of its end.
    during = [at - created[ref] for at, ref in published
              if at < surge_ended and created[ref] - min(created.values()) > 1.0]
    assert during == [] or min(during) >= 1.5
    assert max(at for at, _ in published) - surge_ended < 4.0


def test_relay_publishes_a_quiet_submission_at_its_next_poll(committed_db: Services) -> None:
    """With the default threshold and hold, a lone action leaves the outbox well within a
    second of being stored."""
    settings = replace(committed_db.settings, outbox_poll_seconds=0.05)
    assert settings.surge_submissions_per_s > 0 and settings.surge_hold_seconds > 0
    services = Services(settings)
    published: list[float] = []
    stopping = threading.Event()
    relay = threading.Thread(target=relay_until_stopped,
                             args=(services, lambda topic, refs: published.append(time.time()),
                                   stopping))
    relay.start()
    try:
        time.sleep(0.3)  # the relay has polled an empty outbox
        stored = time.time()
        add_messages(services, 1, datetime.now(UTC))
        wait_for(lambda: published, timeout=5, message="the quiet action published")
    finally:
        stopping.set()
        relay.join(timeout=10)
        services.close()
    assert published[0] - stored < 0.5
