"""English and Traditional Chinese for the interface; campaign copy carries its own locales."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge

LOCALES = ("en", "zh-Hant")
DEFAULT = "en"
CATALOGS = Path(__file__).parent / "translations"


@cache
def catalog(locale: str) -> dict[str, str]:
    return yaml.safe_load((CATALOGS / f"{locale}.yaml").read_text(encoding="utf-8"))


def pick_locale() -> str:
    """``?lang=`` wins, then the form's ``locale``, then the browser's Accept-Language."""
    asked = request.args.get("lang") or _form_locale()
    if asked in LOCALES:
        return asked
    best = request.accept_languages.best_match(["en", "zh-Hant", "zh-TW", "zh-HK", "zh"])
    return "zh-Hant" if best and best.startswith("zh") else DEFAULT


def _form_locale() -> str | None:
    # A body over the size limit is not parsed for this (the 413 page must still render).
    try:
        return request.form.get("locale")
    except RequestEntityTooLarge:
        return None


def locale() -> str:
    if "locale" not in g:
        g.locale = pick_locale()
    return g.locale


def translate(key: str, **values: object) -> str:
    """The interface string ``key`` in the request's locale (English if it is missing)."""
    text = catalog(locale()).get(key) or catalog(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def error_text(error: Any, **values: object) -> str:
    """A field error in the supporter's language: its own interface string, else the one for
    its field (``error_field_<field>``), else the API's English message."""
    for key in (getattr(error, "key", None), f"error_field_{error.field}"):
        if key and (catalog(locale()).get(key) or catalog(DEFAULT).get(key)):
            return translate(key, **values)
    return str(error.message)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=translate, current_locale=locale, LOCALES=LOCALES,
                                 error_text=error_text)
