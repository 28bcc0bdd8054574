"""URL matching that remembers the paths it has matched, so a request leaves no cyclic garbage.

Werkzeug's ``StateMachineMatcher.match`` defines a recursive closure on every call: the function
refers to itself through its closure cell, so each URL match left eight objects that only the
cycle collector frees. Those were all the cyclic garbage a submission made (a census of
``gc.garbage`` under load), and at the young generation's threshold (``actionwave.collector``)
they set off a collection every few seconds per process, each stopping every request in it
(docs/performance.md). A path matched before is answered from memory; the matcher itself runs
only for new paths.

Only successful matches are remembered (redirects, 404s and 405s run the matcher every time), the
memory is forgotten whenever rules change, and it holds at most ``size`` paths: when full it
starts again, so paths unique to one request (a status URL, a token) cost nothing lasting.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import Map, Rule
from werkzeug.routing.matcher import StateMachineMatcher

Key = tuple[str, str, str, bool]


class RememberingMatcher(StateMachineMatcher):
    def __init__(self, merge_slashes: bool, size: int = 1024) -> None:
        super().__init__(merge_slashes)
        self.size = size
        self._known: dict[Key, tuple[Rule, dict[str, Any]]] = {}

    def add(self, rule: Rule) -> None:
        self._known.clear()
        super().add(rule)

    def update(self) -> None:
        self._known.clear()
        super().update()

    def match(self, domain: str, path: str, method: str,
              websocket: bool) -> tuple[Rule, dict[str, Any]]:
        key = (domain, path, method, websocket)
        known = self._known.get(key)
        if known is not None:
            rule, values = known
            return rule, dict(values)  # the caller may change its copy
        rule, values = super().match(domain, path, method, websocket)
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[key] = (rule, dict(values))
        return rule, values


class RememberingMap(Map):
    """A ``Map`` whose matcher is a ``RememberingMatcher``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._matcher = RememberingMatcher(self.merge_slashes)
        for rule in self._rules:  # rules given to the constructor went to the plain matcher
            self._matcher.add(rule)


class App(Flask):
    url_map_class = RememberingMap
