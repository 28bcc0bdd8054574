"""Group commit: concurrent submissions written together, each answered with its own result."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError

from actionwave.core.models import Action, OutboxMessage, Supporter
from actionwave.intake.group_commit import GroupCommitWriter
from actionwave.intake.submissions import parse_action_form, submission_row
from actionwave.platform.batching import Batcher, BatchTimeout
from actionwave.system.services import Services


def run_together(count: int, call: Callable[[int], Any]) -> list[Any]:
    """``call(n)`` for n in range(count), all threads started together; results or exceptions."""
    start = threading.Barrier(count)

    def one(n: int) -> Any:
        start.wait()
        try:
            return call(n)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def slow_doubler(batches: list[list[int]]) -> Callable[[list[int]], list[int]]:
    def process(items: list[int]) -> list[int]:
        batches.append(list(items))
        time.sleep(0.02)  # long enough for the other threads to queue up behind this batch
        return [item * 2 for item in items]
    return process


def test_concurrent_items_share_batches_and_get_their_own_results():
    batches: list[list[int]] = []
    batcher: Batcher[int, int] = Batcher(slow_doubler(batches), name="test")
    assert run_together(40, batcher.submit) == [n * 2 for n in range(40)]
    assert sorted(item for batch in batches for item in batch) == list(range(40))
    assert len(batches) < 40 and max(map(len, batches)) > 1


def test_items_with_the_same_key_never_share_a_batch():
    batches: list[list[int]] = []
    batcher: Batcher[int, int] = Batcher(slow_doubler(batches), name="test", key=lambda n: n % 3)
    assert run_together(30, batcher.submit) == [n * 2 for n in range(30)]
    assert all(len({n % 3 for n in batch}) == len(batch) for batch in batches)


def test_a_failing_batch_fails_each_of_its_items_and_an_item_result_fails_only_its_own():
    def process(items: list[int]) -> list[int | BaseException]:
        if 13 in items:
            raise RuntimeError("batch broke")
        return [ValueError(item) if item == 7 else item for item in items]

    batcher: Batcher[int, int] = Batcher(process, name="test")
    assert batcher.submit(1) == 1
    with pytest.raises(ValueError):
        batcher.submit(7)
    with pytest.raises(RuntimeError, match="batch broke"):
        batcher.submit(13)
    assert batcher.submit(2) == 2  # the thread survives a failed batch


def test_a_stuck_batch_times_out_instead_of_hanging_the_request():
    release = threading.Event()
    batcher: Batcher[int, int] = Batcher(lambda items: release.wait(5) and items, name="test",
                                         wait_seconds=0.2)
    with pytest.raises(BatchTimeout):
        batcher.submit(1)
    release.set()


def row(slug: str, n: int, **changes: Any) -> dict[str, Any]:
    form = parse_action_form({"email": f"group{n}@example.org", "first_name": "Group",
                              "last_name": f"Commit {n}", "zip": "10001"})
    return {**submission_row(slug, form, secret="test-secret-key", ip_hash="hash"), **changes}


def counts(services: Services) -> tuple[int, int, int]:
    with services.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                     for model in (Supporter, Action, OutboxMessage))  # type: ignore[return-value]


def test_concurrent_submissions_are_stored_once_each_in_shared_statements(
        services: Services, campaign_slug: str, committed_db: Services):
    writer = GroupCommitWriter(services.engine)
    sizes: list[int] = []
    writer.batcher.observe = sizes.append
    rows = [row(campaign_slug, n % 30) for n in range(60)]  # every address twice

    results = run_together(60, lambda n: writer.store(rows[n]))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.created for r in results) == 30
    by_email: dict[str, set[Any]] = {}
    for n, result in enumerate(results):
        by_email.setdefault(rows[n]["email"], set()).add(result.action_id)
    assert all(len(ids) == 1 for ids in by_email.values())  # the repeat got the same action
    assert counts(services) == (30, 30, 30)
    assert sum(sizes) == 60 and len(sizes) < 60


def test_an_unknown_campaign_and_a_bad_row_fail_only_their_own_requests(
        services: Services, campaign_slug: str, committed_db: Services):
    writer = GroupCommitWriter(services.engine)
    rows = [row(campaign_slug, n) for n in range(20)]
    rows[5] = row("no-such-campaign", 5)
    rows[9] = row(campaign_slug, 9, zip="1" * 500)  # longer than the column: PostgreSQL refuses

    results = run_together(20, lambda n: writer.store(rows[n]))

    assert results[5] is None
    assert isinstance(results[9], DataError)
    assert all(r.created for n, r in enumerate(results) if n not in (5, 9))
    assert counts(services) == (18, 18, 18)


def test_a_connection_that_died_between_batches_is_replaced_without_failing_a_request(
        services: Services, campaign_slug: str, committed_db: Services):
    writer = GroupCommitWriter(services.engine)
    assert writer.store(row(campaign_slug, 0)).created
    pid = writer._connection.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    with services.engine.connect() as admin:  # what a PostgreSQL restart does to it
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    assert writer.store(row(campaign_slug, 1)).created
    assert counts(services) == (2, 2, 2)
    writer.close()


def test_on_the_embedded_sqlite_concurrent_submissions_share_transactions(
        tmp_path, campaign_slug: str):  # type: ignore[no-untyped-def]
    """The embedded default's store: one BEGIN IMMEDIATE and one fsync for many submissions."""
    from actionwave.campaigns.files import load_campaign
    from actionwave.intake.group_commit import SqliteGroupCommit
    from actionwave.platform.db import make_engine, make_session_factory
    from actionwave.platform.migrate import upgrade
    from tests.conftest import CAMPAIGN_FILE

    url = f"sqlite:///{tmp_path / 'actionwave.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        load_campaign(session, CAMPAIGN_FILE)
    writer = SqliteGroupCommit(factory)
    sizes: list[int] = []
    writer.batcher.observe = sizes.append
    rows = [row(campaign_slug, n % 20) for n in range(40)]  # every address twice

    results = run_together(40, lambda n: writer.store(rows[n]))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.created for r in results) == 20
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Action)) == 20
    assert sum(sizes) == 40 and len(sizes) < 40
    engine.dispose()
