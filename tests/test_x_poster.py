"""XPoster (tweepy) against the X API v2 stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actionwave.channels import Permanent, Retryable
from actionwave.config import Settings
from actionwave.social.x_poster import FilePoster, XPoster, make_poster
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


def test_duplicate_content_counts_as_already_posted(stub: XStub, tmp_path: Path) -> None:
    poster = XPoster(x_settings(stub, tmp_path))
    poster.post("same words")
    assert poster.post("same words") is None
    assert stub.posts == ["same words"]


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
