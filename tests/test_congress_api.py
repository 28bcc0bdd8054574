"""CongressGovClient against the congress.gov stub serving the recorded responses: the wire as
congress.gov documents it, and every bad answer turned into one kind of ``BillSourceError``."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from actionwave.bill.budget import RequestBudget
from actionwave.bill.congress_api import BillRef, BillSourceError, CongressGovClient
from actionwave.platform.ratelimit import RedisRateLimiter
from tests.stubs.congress import API_KEY, CongressStub, recorded_bills, running

HR21 = BillRef(117, "hr", 21)
HR3076 = BillRef(117, "hr", 3076)
NEW_BILL = BillRef(119, "hr", 9999)


@pytest.fixture
def stub() -> Iterator[CongressStub]:
    with running(CongressStub()) as server:
        yield server  # type: ignore[misc]
        assert server.state["invalid"] == []  # every request followed congress.gov's rules


def client(stub: CongressStub, per_hour: int = 100, key: str = API_KEY,
           **options: object) -> CongressGovClient:
    return CongressGovClient(stub.api_url, key, RequestBudget(per_hour), sleep=lambda s: None,
                             **options)  # type: ignore[arg-type]


def failure(api: CongressGovClient, bill: BillRef = HR21, **kwargs: object) -> BillSourceError:
    with pytest.raises(BillSourceError) as caught:
        api.actions(bill, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_recorded_answer_of_h_r_21_parses_to_its_ten_actions(stub: CongressStub) -> None:
    actions = client(stub).actions(HR21)
    assert actions == recorded_bills()[("117", "hr", "21")]["actions"]
    assert len(actions) == 10 and actions[-1]["text"] == "Introduced in House"
    assert len(stub.state["requests"]) == 1


def test_pagination_follows_the_recorded_next_on_our_own_host(stub: CongressStub) -> None:
    """H.R. 3076's recorded first page (20 of 74) names its next page with the host stripped
    (``https://v3/bill/...``): the client asks that page's query of the configured host."""
    actions = client(stub, page_limit=20).actions(HR3076)
    assert actions is not None and len(actions) == 20  # only page 1 was recorded
    assert actions[0]["text"] == "Became Public Law No: 117-108."
    assert [p.split("?")[1] for p in stub.state["requests"]] == [
        "offset=0&limit=20&format=json", "offset=20&limit=20&format=json"]


def test_actions_follow_pagination_next_to_the_last_page(stub: CongressStub) -> None:
    stub.state["page_size"] = 3
    actions = client(stub).actions(HR21)
    assert actions is not None and len(actions) == 10
    offsets = [p.split("offset=")[1].split("&")[0] for p in stub.state["requests"]]
    assert offsets == ["0", "3", "6", "9"]


def test_bill_with_no_actions_yet_is_an_empty_list(stub: CongressStub) -> None:
    stub.add_bill(("119", "hr", "9999"), [])
    assert client(stub).actions(NEW_BILL) == []
    # the bill list shows it without a latestAction: still a changed bill, with no actions
    assert client(stub).actions(NEW_BILL, since=datetime.now(UTC) - timedelta(hours=1)) == []


def test_api_key_travels_in_the_header_not_the_query(stub: CongressStub) -> None:
    client(stub).actions(HR21)
    assert all("api_key" not in p for p in stub.state["requests"])


def test_missing_key_fails_without_a_request(stub: CongressStub) -> None:
    error = failure(client(stub, key=""))
    assert error.kind == "key_missing" and stub.state["requests"] == []


@pytest.mark.parametrize("status", [403, 401])
def test_refused_key_is_key_refused_and_the_key_is_never_in_the_reason(
        stub: CongressStub, status: int) -> None:
    stub.refuse_key(status)
    error = failure(client(stub))
    assert error.kind == "key_refused" and str(status) in error.reason
    assert "API_KEY_INVALID" in error.reason and API_KEY not in error.reason
    assert failure(client(stub, key="wrong-key")).kind == "key_refused"


def test_unchanged_bill_costs_one_request_and_returns_none(stub: CongressStub) -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)  # H.R. 21 was last updated in 2022
    assert client(stub).actions(HR21, since=since) is None
    assert len(stub.state["requests"]) == 1
    assert "fromDateTime=2024-01-01T00%3A00%3A00Z" in stub.state["requests"][0]


def test_changed_bill_is_fetched_after_the_from_date_time_check(stub: CongressStub) -> None:
    actions = client(stub).actions(HR21, since=datetime(2021, 1, 1, tzinfo=UTC))
    assert actions is not None and len(actions) == 10


def test_short_429_is_waited_out_then_succeeds(stub: CongressStub) -> None:
    stub.fail_with_429(1, retry_after=2)
    waits: list[float] = []
    api = CongressGovClient(stub.api_url, API_KEY, RequestBudget(100), sleep=waits.append)
    assert api.actions(HR21) is not None
    assert waits == [2.0]


def test_long_retry_after_is_reported_with_its_wait(stub: CongressStub) -> None:
    stub.fail_with_429(5, retry_after=3600)
    error = failure(client(stub))
    assert error.kind == "rate_limited" and error.after == 3600
    assert len(stub.state["requests"]) == 1


def test_retry_after_as_an_http_date_is_read(stub: CongressStub) -> None:
    stub.fail_with_429(5)
    stub.state["retry_after"] = format_datetime(datetime.now(UTC) + timedelta(minutes=20),
                                                usegmt=True)
    error = failure(client(stub))
    assert error.kind == "rate_limited" and 1100 < (error.after or 0) <= 1200


def test_spent_budget_refuses_without_calling_the_api(stub: CongressStub) -> None:
    api = client(stub, per_hour=1)
    api.actions(HR21)
    error = failure(api)
    assert error.kind == "rate_limited" and "budget" in error.reason
    assert 0 < (error.after or 0) <= 3600
    assert len(stub.state["requests"]) == 1


@pytest.mark.parametrize(("fault", "kind", "reason"), [
    ("truncated", "bad_answer", "not JSON (application/json"),
    ("cut", "bad_answer", "cut short"),
    ("html", "bad_answer", "not JSON (text/html"),
    ("server_error", "server_error", "503"),
])
def test_bad_answers_are_failures_of_one_kind(stub: CongressStub, fault: str, kind: str,
                                              reason: str) -> None:
    stub.fault(fault)
    error = failure(client(stub))
    assert (error.kind, reason in error.reason) == (kind, True), error.reason


def test_json_of_another_shape_is_a_bad_answer(stub: CongressStub) -> None:
    stub.add_bill(("119", "hr", "9999"), [{"text": "Introduced in House"}])  # no actionDate
    error = failure(client(stub), NEW_BILL)
    assert error.kind == "bad_answer" and "actionDate" in error.reason


def test_a_hanging_server_is_a_timeout_not_a_hang(stub: CongressStub) -> None:
    stub.fault("hang")
    started = time.monotonic()
    error = failure(client(stub, timeout=0.5))
    assert error.kind == "unreachable" and "did not answer within 0.5 s" in error.reason
    assert time.monotonic() - started < 3


def test_an_unreachable_host_is_unreachable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = CongressGovClient(f"http://127.0.0.1:{port}/v3", API_KEY, RequestBudget(10), timeout=2)
    error = failure(api)
    assert error.kind == "unreachable" and "ConnectionError" in error.reason


def test_redis_budget_is_shared_between_clients(redis_client, token: str) -> None:  # type: ignore[no-untyped-def]
    first = RequestBudget(2, RedisRateLimiter(redis_client, f"aw-test-{token}-budget"))
    second = RequestBudget(2, RedisRateLimiter(redis_client, f"aw-test-{token}-budget"))
    assert first.take() is None and second.take() is None
    assert first.take() is not None
