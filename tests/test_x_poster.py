"""XPoster (tweepy) against the X API v2 stub."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from actionwave.core.channels import Permanent, Retryable
from actionwave.platform.config import Settings
from actionwave.social.x_poster import FilePoster, XPoster, make_poster
from tests.stubs.base import REFERENCE
from tests.stubs.congress import running
from tests.stubs.x import XStub


@pytest.fixture
def stub() -> Iterator[XStub]:
    with running(XStub()) as server:
        yield server  # type: ignore[misc]


def x_settings(stub: XStub, tmp_path: Path) -> Settings:
    return Settings.from_env({}, instance_path=tmp_path, x_api_url=stub.url, x_consumer_key="ck",
                             x_consumer_secret="cs", x_access_token="at",
                             x_access_token_secret="ats")


def test_post_goes_to_the_configured_host_and_returns_the_id(stub: XStub, tmp_path: Path) -> None:
    poster = make_poster(x_settings(stub, tmp_path))
    assert isinstance(poster, XPoster)
    post_id = poster.post("H.R. 2661 passed the House")
    assert post_id == "1456012973835788293"
    assert stub.posts == ["H.R. 2661 passed the House"]


def test_duplicate_content_is_permanent_and_not_retried(stub: XStub, tmp_path: Path) -> None:
    poster = XPoster(x_settings(stub, tmp_path))
    poster.post("same words")
    with pytest.raises(Permanent, match=r"duplicate: You are not allowed to create a Tweet "
                                        r"with duplicate content\."):
        poster.post("same words")
    assert stub.posts == ["same words"] and stub.state["attempts"] == 2


def test_the_create_post_body_meets_xs_schema_and_the_answer_xs_response_schema(
        stub: XStub, tmp_path: Path) -> None:
    import requests

    XPoster(x_settings(stub, tmp_path)).post("H.R. 2661 passed the House \u2705")
    assert stub.state["invalid"] == []  # the stub checked tweepy's body against X's schema
    refused = requests.post(f"{stub.url}/2/tweets", json={"text": "hi", "colour": "red"},
                            headers={"Authorization": "OAuth x"}, timeout=5)
    assert refused.status_code == 400 and refused.json()["title"] == "Invalid Request"
    answer = requests.post(f"{stub.url}/2/tweets", json={"text": "other words"},
                           headers={"Authorization": "OAuth x"}, timeout=5)
    response_schema = json.loads((REFERENCE / "x_create_posts_response.schema.json").read_text())
    assert answer.status_code == 201
    Draft202012Validator(response_schema).validate(answer.json())


def test_every_create_post_body_tweepy_sends_meets_xs_schema(stub: XStub,
                                                           tmp_path: Path) -> None:
    poster = XPoster(x_settings(stub, tmp_path))

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=st.text(max_size=600))
    def post(text: str) -> None:
        with contextlib.suppress(Permanent):  # a text generated twice is X's duplicate
            poster.post(text)

    post()
    assert stub.state["attempts"] >= 150 and stub.state["invalid"] == []


def test_rate_limit_is_retryable_until_the_reset(stub: XStub, tmp_path: Path) -> None:
    stub.rate_limit(1)
    with pytest.raises(Retryable) as caught:
        XPoster(x_settings(stub, tmp_path)).post("hello")
    assert 800 < (caught.value.after or 0) <= 900


def test_missing_permission_is_permanent(stub: XStub, tmp_path: Path) -> None:
    stub.state["read_only"] = True
    with pytest.raises(Permanent, match="oauth1 app permissions"):
        XPoster(x_settings(stub, tmp_path)).post("hello")


def test_without_credentials_posts_go_to_instance_files(tmp_path: Path) -> None:
    poster = make_poster(Settings.from_env({}, instance_path=tmp_path))
    assert isinstance(poster, FilePoster)
    assert poster.post("hello")
    assert len(list((tmp_path / "posts").glob("*.json"))) == 1
