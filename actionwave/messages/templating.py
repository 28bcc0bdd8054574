"""Campaign templates: sandboxed Jinja2 with a fixed, documented set of variables.

Templates may use exactly these variables (anything else is refused when the campaign loads):

- ``supporter.first_name``, ``supporter.city``, ``supporter.state``
- ``legislator.title`` (``Rep.``, ``Sen.``, ``Del.``), ``legislator.name``, ``legislator.handle``
  (``@handle`` or empty)
- ``campaign.title``, ``bill.label`` (``H.R. 2661``), ``ask`` (the ask for the legislator's
  chamber)

Supporter text is never a template: it is carried beside the rendered organization text as data,
so ``{{ … }}`` typed by a supporter stays literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
import yaml
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes

from actionwave.messages.sandbox import (
    BoundedEnvironment,
    TemplateLimit,
    render_bounded,
    render_budget,
)

ALLOWED: dict[str, frozenset[str]] = {
    "supporter": frozenset({"first_name", "city", "state"}),
    "legislator": frozenset({"title", "name", "handle"}),
    "campaign": frozenset({"title"}),
    "bill": frozenset({"label"}),
    "ask": frozenset(),
}


class TemplateError(ValueError):
    """A template is broken or uses a variable outside the documented set.

    ``source`` names the file (and template), ``line`` the line inside the template body.
    """

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.message = message


@dataclass(frozen=True)
class TemplateVars:
    """The values a template sees. Build with ``template_vars``."""

    values: Mapping[str, Any]


_env = BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
# What a render may raise for a template that parses: sandbox refusals (``SecurityError``),
# undefined names, missing includes, the render bounds, and plain arithmetic or type errors.
RENDER_ERRORS = (jinja2.TemplateError, TemplateLimit, ArithmeticError, TypeError, ValueError,
                 LookupError, RecursionError)
# The sample values a template is tried with when it is checked, so one over a render bound is
# refused when it is saved or loaded, not when a wave sends it.
_SAMPLE = {"first_name": "Mei", "city": "Cheyenne", "state": "WY", "title": "Rep.",
           "name": "Alex Example", "handle": "RepExample", "campaign_title": "Campaign",
           "bill_label": "H.R. 1", "ask": "cosponsor"}


def template_vars(
    *,
    first_name: str = "",
    city: str | None = None,
    state: str | None = None,
    title: str = "",
    name: str = "",
    handle: str | None = None,
    campaign_title: str = "",
    bill_label: str = "",
    ask: str = "",
) -> TemplateVars:
    """The complete variable set; missing values are empty strings, never undefined."""
    return TemplateVars({
        "supporter": {"first_name": first_name, "city": city or "", "state": state or ""},
        "legislator": {"title": title, "name": name,
                       "handle": f"@{handle.lstrip('@')}" if handle else ""},
        "campaign": {"title": campaign_title},
        "bill": {"label": bill_label},
        "ask": ask,
    })


def check_template(text: str, source: str) -> None:
    """Raise ``TemplateError`` if ``text`` does not parse, uses an unknown variable, or fails
    (or goes over a render bound) when tried with sample values."""
    try:
        tree = _env.parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(source, exc.lineno, exc.message or "syntax error") from exc
    unknown = sorted(meta.find_undeclared_variables(tree) - ALLOWED.keys())
    if unknown:
        line = _first_line(tree, unknown[0])
        raise TemplateError(source, line, f"unknown variable '{unknown[0]}' "
                                          f"(allowed: {', '.join(sorted(ALLOWED))})")
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in ALLOWED:
            fields = ALLOWED[node.node.name]
            if node.attr not in fields:
                raise TemplateError(
                    source, node.lineno,
                    f"unknown variable '{node.node.name}.{node.attr}'"
                    + (f" (allowed: {', '.join(sorted(fields))})" if fields else ""),
                )
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.node, nodes.Name) and node.node.name in ALLOWED:
            raise TemplateError(source, node.lineno,
                                f"use '{node.node.name}.field', not subscripts")


def _first_line(tree: nodes.Template, name: str) -> int | None:
    for node in tree.find_all(nodes.Name):
        if node.name == name:
            return node.lineno
    return None


def check_templates(rows: Iterable[Mapping[str, str]], source: str, yaml_text: str = "") -> None:
    """Validate every template row (``kind``, ``locale``, ``name``, ``subject``, ``body``).

    Raises ``TemplateError`` naming ``source``, the template and the line of the first problem;
    with the file's ``yaml_text`` the line is the line in the file.
    """
    starts = _template_lines(yaml_text) if yaml_text else {}
    for row in rows:
        where = f"templates.{row['kind']}.{row['locale']}[{row['name']}]"
        for part in ("subject", "body"):
            if not row.get(part):
                continue
            try:
                check_template(row[part], f"{where}.{part}")
            except TemplateError as exc:
                start = starts.get((row["kind"], row["locale"], row["body"], part))
                line = start + (exc.line or 1) - 1 if start else exc.line
                raise TemplateError(source, line, f"{where}.{part}: {exc.message}") from exc


def _template_lines(yaml_text: str) -> dict[tuple[str, str, str, str], int]:
    """File line where each template's text starts, keyed by (kind, locale, body, part)."""
    try:
        root = yaml.compose(yaml_text)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, str, str, str], int] = {}
    templates = _child(root, "templates")
    for kind_key, by_locale in templates.value if templates else ():
        for locale_key, spec in by_locale.value if isinstance(by_locale, yaml.MappingNode) else ():
            items = spec.value if isinstance(spec, yaml.SequenceNode) else [spec]
            for item in items:
                if isinstance(item, yaml.ScalarNode):
                    parts = {"body": item}
                else:
                    parts = {k.value: v for k, v in item.value if k.value in ("subject", "body")}
                body = parts.get("body")
                for part, node in parts.items():
                    block = node.style in ("|", ">")
                    lines[(kind_key.value, locale_key.value, body.value if body else "", part)] = (
                        node.start_mark.line + (2 if block else 1)
                    )
    return lines


def _child(node: yaml.Node | None, key: str) -> yaml.MappingNode | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if k.value == key and isinstance(v, yaml.MappingNode):
            return v
    return None


@dataclass(frozen=True)
class CompiledTemplate:
    """A template parsed and compiled once, to render for many supporters (``compile_template``)."""

    template: Template

    def render(self, variables: TemplateVars) -> str:
        """Raises ``TemplateError`` when the template uses a variable it may not, goes over a
        render bound (``actionwave.messages.sandbox``) or fails to render."""
        try:
            with render_budget():
                return render_bounded(self.template.generate(**variables.values))
        except TemplateLimit as exc:
            raise TemplateError("template", None, f"over a limit: {exc}") from exc
        except RENDER_ERRORS as exc:
            raise TemplateError("template", getattr(exc, "lineno", None),
                                f"{type(exc).__name__}: {exc}") from exc


def compile_template(text: str) -> CompiledTemplate:
    """Compile ``text`` once (about a millisecond; a render then takes microseconds).

    Raises ``TemplateError`` for a template that does not parse.
    """
    try:
        return CompiledTemplate(_env.from_string(text))
    except TemplateSyntaxError as exc:
        raise TemplateError("template", exc.lineno, exc.message or "syntax error") from exc
    except RENDER_ERRORS as exc:  # e.g. an unknown filter, refused when compiled
        raise TemplateError("template", getattr(exc, "lineno", None), str(exc)) from exc


@lru_cache(maxsize=256)
def _compiled(text: str) -> CompiledTemplate:
    return compile_template(text)


def render(text: str, variables: TemplateVars) -> str:
    """Render an organization template, compiled once per distinct text (a small LRU cache:
    planning renders the same few templates for every supporter). Raises ``TemplateError`` for a
    template never checked."""
    return _compiled(text).render(variables)
