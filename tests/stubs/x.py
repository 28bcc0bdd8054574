"""A stub of X API v2 ``POST /2/tweets``, answering with the recorded bodies and headers.

Every create-post body is checked against X's own schema of it
(``shared/data/reference/x_create_posts_request.schema.json``, with ``jsonschema``); one that
breaks it gets 400 with X's problem shape (``title``, ``type``, ``status``, ``detail``, as in the
observed bodies) plus X's ``errors`` list naming the parameter, and is counted in
``state["invalid"]``. Otherwise 201 with ``{"data": {"id", "text"}}`` and ``x-rate-limit-*``
headers (as recorded in ``shared/data/api-examples/x-api-v2``); 403 with the observed
duplicate-content body when the same text is posted twice, or the observed
``oauth1-permissions`` body when ``read_only``; ``rate_limit(times)`` answers 429 with the
observed body. Requests without an OAuth ``Authorization`` header get 401.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from jsonschema import Draft202012Validator

from tests.stubs.base import DATA, REFERENCE, StubHandler, StubServer

EXAMPLES = DATA / "api-examples" / "x-api-v2"
CREATE_POST_SCHEMA = Draft202012Validator(
    json.loads((REFERENCE / "x_create_posts_request.schema.json").read_text()))


def invalid_request(body: Any) -> dict[str, Any] | None:
    """X's 400 answer for a create-post body that breaks its schema, or None when it is valid."""
    errors = [{"parameters": {".".join(map(str, e.absolute_path)) or "body":
                              [str(e.instance)[:80]]}, "message": e.message}
              for e in CREATE_POST_SCHEMA.iter_errors(body)]
    if not errors:
        return None
    return {"errors": errors, "title": "Invalid Request", "status": 400,
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"}


def _observed(status: int, contains: str = "") -> dict[str, Any]:
    for entry in json.loads((EXAMPLES / "error_responses_observed.json").read_text()):
        if entry["status"] == status and contains in json.dumps(entry["body"]):
            return entry["body"]
    raise LookupError(status)


RECORDED = json.loads((EXAMPLES / "create_and_delete_tweet_recorded.json").read_text())
CREATED = RECORDED["interactions"][0]["response"]
DUPLICATE = _observed(403, "duplicate content")
TOO_MANY = _observed(429)
NO_WRITE_PERMISSION = _observed(403, "oauth1-permissions")
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401,
                "detail": "Unauthorized"}


class XHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        if (method, self.path_only) != ("POST", "/2/tweets"):
            self.send_json(404, {"title": "Not Found Error", "status": 404})
            return
        if not (self.headers.get("Authorization") or "").startswith("OAuth "):
            self.send_json(401, UNAUTHORIZED)
            return
        try:
            body = json.loads(self.body() or b"null")
        except ValueError:
            body = None
        state = self.server.state
        refusal = invalid_request(body)
        if refusal:
            with self.server.lock:
                state["invalid"].append(refusal)
            self.send_json(400, refusal)
            return
        text = body.get("text", "")
        with self.server.lock:
            state["attempts"] += 1
            reset = str(int(time.time()) + 900)
            if state["rate_limited"] > 0:
                state["rate_limited"] -= 1
                self.send_json(429, TOO_MANY, {"x-rate-limit-limit": "200",
                                               "x-rate-limit-remaining": "0",
                                               "x-rate-limit-reset": reset})
                return
            if state["read_only"]:
                self.send_json(403, NO_WRITE_PERMISSION)
                return
            if text in state["posts"].values():
                self.send_json(403, DUPLICATE)
                return
            post_id = str(next(state["ids"]))
            state["posts"][post_id] = text
            remaining = 200 - len(state["posts"])
        headers = {k: v for k, v in CREATED["headers"].items() if k.startswith("x-")}
        headers.update({"x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": reset,
                        "location": f"{self.server.url}/2/tweets/{post_id}"})
        self.send_json(201, {"data": {"id": post_id, "text": text}}, headers)


class XStub(StubServer):
    def __init__(self, port: int = 0) -> None:
        super().__init__(XHandler, port)
        first_id = int(CREATED["body"]["data"]["id"])
        self.state.update(posts={}, attempts=0, rate_limited=0, read_only=False, invalid=[],
                          ids=itertools.count(first_id))

    def rate_limit(self, times: int) -> None:
        with self.lock:
            self.state["rate_limited"] = times

    @property
    def posts(self) -> list[str]:
        return list(self.state["posts"].values())
