"""CongressGovClient against the congress.gov stub serving the recorded responses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from actionwave.bill.budget import LocalBudget, RedisBudget
from actionwave.bill.congress_api import BillRef, CongressGovClient
from actionwave.channels import Permanent, Retryable
from tests.stubs.congress import API_KEY, CongressStub, running

HR21 = BillRef(117, "hr", 21)


@pytest.fixture
def stub() -> Iterator[CongressStub]:
    with running(CongressStub()) as server:
        yield server  # type: ignore[misc]


def client(stub: CongressStub, per_hour: int = 100, key: str = API_KEY) -> CongressGovClient:
    return CongressGovClient(stub.api_url, key, LocalBudget(per_hour), sleep=lambda s: None)


def test_actions_follow_pagination_next_to_the_last_page(stub: CongressStub) -> None:
    stub.state["page_size"] = 3
    actions = client(stub).actions(HR21)
    assert actions is not None and len(actions) == 10
    assert actions[-1]["text"] == "Introduced in House"
    offsets = [p.split("offset=")[1].split("&")[0] for p in stub.state["requests"]]
    assert offsets == ["0", "3", "6", "9"]


def test_api_key_travels_in_the_header_not_the_query(stub: CongressStub) -> None:
    client(stub).actions(HR21)
    assert all("api_key" not in p for p in stub.state["requests"])
    with pytest.raises(Permanent, match="403"):
        client(stub, key="").actions(HR21)


def test_unchanged_bill_costs_one_request_and_returns_none(stub: CongressStub) -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)  # H.R. 21 was last updated in 2022
    assert client(stub).actions(HR21, since=since) is None
    assert len(stub.state["requests"]) == 1
    assert "fromDateTime=2024-01-01T00%3A00%3A00Z" in stub.state["requests"][0]


def test_changed_bill_is_fetched_after_the_from_date_time_check(stub: CongressStub) -> None:
    actions = client(stub).actions(HR21, since=datetime(2021, 1, 1, tzinfo=UTC))
    assert actions is not None and len(actions) == 10


def test_429_is_retried_after_retry_after_then_succeeds(stub: CongressStub) -> None:
    stub.fail_with_429(1, retry_after=2)
    waits: list[float] = []
    api = CongressGovClient(stub.api_url, API_KEY, LocalBudget(100), sleep=waits.append)
    assert api.actions(HR21) is not None
    assert waits == [2.0]


def test_long_retry_after_becomes_retryable_with_the_wait(stub: CongressStub) -> None:
    stub.fail_with_429(5, retry_after=3600)
    with pytest.raises(Retryable) as caught:
        client(stub).actions(HR21)
    assert caught.value.after == 3600


def test_spent_budget_refuses_without_calling_the_api(stub: CongressStub) -> None:
    api = client(stub, per_hour=1)
    api.actions(HR21)
    with pytest.raises(Retryable, match="budget") as caught:
        api.actions(HR21)
    assert 0 < (caught.value.after or 0) <= 3600
    assert len(stub.state["requests"]) == 1


def test_redis_budget_is_shared_between_clients(redis_client, token: str) -> None:  # type: ignore[no-untyped-def]
    first = RedisBudget(redis_client, f"aw-test-{token}-budget", per_hour=2)
    second = RedisBudget(redis_client, f"aw-test-{token}-budget", per_hour=2)
    assert first.take() is None and second.take() is None
    assert first.take() is not None
