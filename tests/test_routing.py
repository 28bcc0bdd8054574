"""URL matching from memory (web/routing.py): same answers as werkzeug's, no cyclic garbage."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.test import EnvironBuilder

from web.routing import RememberingMap


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the cycle collector finds while the test runs, kept in ``gc.garbage``."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_submissions_and_lookups_leave_no_cyclic_garbage(app, campaign_slug: str, committed_db,
                                                         saved_garbage: list[object]) -> None:
    def submission(n: int) -> dict[str, object]:
        return EnvironBuilder(path=f"/api/v1/campaigns/{campaign_slug}/actions", method="POST",
                              json={"email": f"cycle{n}@example.org", "first_name": "Kit",
                                    "last_name": "Wong", "zip": "60601"}).get_environ()

    lookup = EnvironBuilder(path="/api/v1/legislators", query_string={"zip": "60601"})
    health = EnvironBuilder(path="/healthz")
    statuses: list[str] = []

    def call(environ: dict[str, object]) -> None:
        body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()

    for environ in (submission(-1), lookup.get_environ(), health.get_environ()):
        call(environ)  # the first requests fill caches
    requests = [submission(n) for n in range(60)]
    requests += [builder.get_environ() for builder in (lookup, health) for _ in range(20)]
    gc.collect()
    saved_garbage.clear()
    for environ in requests:
        call(environ)
    gc.collect()
    assert {s.split()[0] for s in statuses} == {"202", "200"}
    # Without the matcher's memory: each request left werkzeug's recursive closure (8 objects).
    # A few may come from elsewhere: another test's thread ending now frees its own.
    matches = [o for o in saved_garbage
               if getattr(o, "__qualname__", "") == "StateMachineMatcher.match.<locals>._match"]
    assert len(matches) < 5 and len(saved_garbage) < len(requests), sorted(
        {getattr(o, "__qualname__", type(o).__qualname__) for o in saved_garbage})


PATHS = [
    ("GET", "/c/hketo-certification-act"), ("POST", "/api/v1/campaigns/some-slug/actions"),
    ("GET", f"/api/v1/actions/{uuid.uuid4()}"), ("GET", "/api/v1/legislators"),
    ("GET", "/healthz"), ("GET", "/nowhere"), ("DELETE", "/healthz"),
    ("GET", "/console/"), ("GET", "/console"), ("GET", "/api/v1//legislators"),
    ("GET", "/static/embed.js"), ("GET", "/api/v1/openapi.json"),
]


def _outcome(url_map: Map, method: str, path: str) -> tuple[str, object]:
    try:
        endpoint, values = url_map.bind("localhost").match(path, method)
    except RequestRedirect as redirect:
        return "redirect", redirect.new_url
    except HTTPException as refused:
        return "refused", refused.code
    return str(endpoint), values


def test_answers_as_werkzeug_does_the_first_time_and_from_memory(app) -> None:
    plain = Map([rule.empty() for rule in app.url_map.iter_rules()])
    assert isinstance(app.url_map, RememberingMap)
    for method, path in PATHS * 2:  # the second pass answers hits from memory
        assert _outcome(app.url_map, method, path) == _outcome(plain, method, path), path


def test_memory_is_bounded_and_forgotten_when_rules_change() -> None:
    url_map = RememberingMap([Rule("/a/<int:n>", endpoint="a")], size=16)
    for n in range(url_map.size + 5):
        assert url_map.bind("localhost").match(f"/a/{n}") == ("a", {"n": n})
    assert len(url_map.remembered) <= url_map.size
    url_map.add(Rule("/a/7", endpoint="seven"))
    assert url_map.bind("localhost").match("/a/7") == ("seven", {})


def test_values_handed_out_are_copies() -> None:
    url_map = RememberingMap([Rule("/a/<int:n>", endpoint="a")])
    adapter = url_map.bind("localhost")
    adapter.match("/a/1")[1]["n"] = 99
    assert adapter.match("/a/1") == ("a", {"n": 1})
