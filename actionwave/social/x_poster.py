"""Posting the campaign's updates to X through tweepy (X API v2 ``POST /2/tweets``).

``XPoster`` is the real implementation; ``FilePoster`` writes posts to ``instance/posts/`` when
no X credentials are configured, so the watcher runs the same way in development.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import requests
import tweepy

from actionwave.core.channels import Permanent, Retryable
from actionwave.platform.config import Settings

TWEEPY_HOST = "https://api.twitter.com"  # hard-coded in tweepy.Client.request
TIMEOUT_SECONDS = 15.0  # tweepy passes none: a hung X would hold a worker thread for ever
DUPLICATE_MARKER = "duplicate content"


class Poster(Protocol):
    def post(self, text: str) -> str | None:
        """Publish ``text``. Returns the post id (None only where no id is made).

        Raises ``Retryable`` (rate limited, X unavailable) or ``Permanent`` (refused, including
        X's 403 for duplicate content: never retried).
        """
        ...


class _HostSession(requests.Session):
    """Sends tweepy's requests to ``base_url`` instead of its built-in host.

    The URL is rewritten before ``requests`` prepares the request, so the OAuth 1.0a signature
    is computed over the URL actually sent.
    """

    def __init__(self, base_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class XPoster:
    """Posts as the campaign's account with OAuth 1.0a user context."""

    def __init__(self, settings: Settings) -> None:
        self.client = tweepy.Client(
            consumer_key=settings.x_consumer_key,
            consumer_secret=settings.x_consumer_secret,
            access_token=settings.x_access_token,
            access_token_secret=settings.x_access_token_secret,
        )
        self.client.session = _HostSession(settings.x_api_url)

    def post(self, text: str) -> str | None:
        try:
            response = self.client.create_tweet(text=text, user_auth=True)
        except tweepy.TooManyRequests as exc:
            reset = exc.response.headers.get("x-rate-limit-reset")
            after = max(1.0, float(reset) - time.time()) if reset else 60.0
            raise Retryable("X rate limit reached", after=after) from exc
        except tweepy.Forbidden as exc:
            detail = _detail(exc)
            if DUPLICATE_MARKER in detail.lower():  # the same words went out before: never retry
                raise Permanent(f"X refused the post as a duplicate: {detail}") from exc
            raise Permanent(f"X refused the post: {detail}") from exc
        except tweepy.TwitterServerError as exc:
            raise Retryable(f"X answered {exc.response.status_code}") from exc
        except tweepy.HTTPException as exc:
            raise Permanent(f"X answered {exc.response.status_code}: {_detail(exc)}") from exc
        except requests.RequestException as exc:
            raise Retryable(f"X unreachable: {type(exc).__name__}") from exc
        return str(response.data["id"])


def _detail(exc: tweepy.HTTPException) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return str(exc)
    return str(body.get("detail") or body.get("title") or exc)


class FilePoster:
    """Writes each post as JSON to ``instance/posts/`` (development, no credentials)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def post(self, text: str) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        post_id = uuid.uuid4().hex
        (self.directory / f"{post_id}.json").write_text(json.dumps({"text": text}))
        return post_id


def make_poster(settings: Settings) -> Poster:
    """The real poster when all four X credentials are set, else the file poster."""
    keys = (settings.x_consumer_key, settings.x_consumer_secret, settings.x_access_token,
            settings.x_access_token_secret)
    if all(keys):
        return XPoster(settings)
    return FilePoster(settings.instance_path / "posts")
