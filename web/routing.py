"""URL matching that remembers the paths it has matched, so a request leaves no cyclic garbage.

Werkzeug's matcher defines a recursive closure on every call: the function refers to itself
through its closure cell, so each URL match leaves eight objects that only the cycle collector
frees. Those were all the cyclic garbage a submission made (a census of ``gc.garbage`` under
load), and they set off collections that stopped every request in the process
(docs/performance.md). A path matched before is answered from memory; the matcher runs only for
new paths.

Built on Werkzeug's public routing API only: a ``Map`` whose ``bind`` hands out a
``MapAdapter`` subclass whose ``match`` looks in the map's memory first. Only successful matches
are remembered (redirects, 404s and 405s run the matcher every time), the memory is forgotten
whenever a rule is added, and it holds at most ``size`` paths: when full it starts again, so
paths unique to one request (a status URL, a token) cost nothing lasting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import Map, MapAdapter, Rule, RuleFactory

Key = tuple[Any, ...]


class RememberingMap(Map):
    """A ``Map`` that remembers up to ``size`` successful matches."""

    def __init__(self, *args: Any, size: int = 1024, **kwargs: Any) -> None:
        self.size = size
        self.remembered: dict[Key, tuple[Rule | str, dict[str, Any]]] = {}
        super().__init__(*args, **kwargs)

    def add(self, rulefactory: RuleFactory) -> None:
        self.remembered.clear()
        super().add(rulefactory)

    def bind(self, *args: Any, **kwargs: Any) -> MapAdapter:
        return RememberingAdapter.like(super().bind(*args, **kwargs))

    def bind_to_environ(self, *args: Any, **kwargs: Any) -> MapAdapter:
        return RememberingAdapter.like(super().bind_to_environ(*args, **kwargs))


class RememberingAdapter(MapAdapter):
    map: RememberingMap

    @classmethod
    def like(cls, plain: MapAdapter) -> RememberingAdapter:
        """The same adapter as ``plain`` (the map's own), remembering."""
        return cls(plain.map, plain.server_name, plain.script_name, plain.subdomain,
                   plain.url_scheme, plain.path_info, plain.default_method, plain.query_args)

    def match(self, path_info: str | None = None, method: str | None = None,  # type: ignore[override]
              return_rule: bool = False, query_args: Mapping[str, Any] | str | None = None,
              websocket: bool | None = None) -> tuple[Any, Mapping[str, Any]]:
        key = (self.server_name, self.subdomain, self.script_name,
               self.path_info if path_info is None else path_info,
               (method or self.default_method).upper(),
               self.websocket if websocket is None else websocket, return_rule)
        known = self.map.remembered.get(key)
        if known is not None:
            found, values = known
            return found, dict(values)  # the caller may change its copy
        found, values = super().match(path_info, method, return_rule, query_args, websocket)
        if len(self.map.remembered) >= self.map.size:
            self.map.remembered.clear()
        self.map.remembered[key] = (found, dict(values))
        return found, values


class App(Flask):
    url_map_class = RememberingMap
