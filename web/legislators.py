"""``GET /api/v1/legislators``, and the same lookup for step 1 of the campaign page."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from actionwave.legislators.index import NoSnapshot
from actionwave.legislators.lookup import (
    BadLookupInput,
    ZipNotFound,
    find_legislators,
    parse_address,
    parse_district,
    parse_zip,
)
from web.context import db, services
from web.errors import RETRY_AFTER_SECONDS, error_response

bp = Blueprint("legislators", __name__)

# Answers change only with a data sync (the ETag names the snapshot); addresses are personal, so
# answers that used one are for the browser's cache only.
ZIP_CACHE = "public, max-age=3600"
ADDRESS_CACHE = "private, max-age=300"
NO_DATA = "Legislator data is not loaded yet; please try again later."


@bp.get("/legislators")
def get_legislators() -> Response | tuple[Response, int]:
    try:
        zcta = parse_zip(request.args.get("zip"))
        address = parse_address(request.args.get("address"))
        district = parse_district(request.args.get("district"))
        index = services().legislators.get()
    except BadLookupInput as exc:
        return error_response(400, exc.field, exc.message)
    except NoSnapshot:
        response, status = error_response(503, None, NO_DATA)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status
    if address is None and district is None:
        body = index.answer_json(zcta)
        if body is None:
            return _not_found(zcta)
        return _cacheable(body, f'"{index.snapshot_id}-{zcta}"', ZIP_CACHE)
    try:
        result = find_legislators(index, zcta, address=address, district=district,
                                  state=request.args.get("state"),
                                  geocoder=services().geocoder)
    except ZipNotFound:
        return _not_found(zcta)
    body = json.dumps(result.answer, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()[:16]
    response = _cacheable(body, f'"{index.snapshot_id}-{digest}"', ADDRESS_CACHE)
    # How the address or district was used (the JSON's shape is fixed; the page words this).
    response.headers["X-Lookup-Address"] = result.address_status
    return response


def _not_found(zcta: str) -> tuple[Response, int]:
    return error_response(404, "zip", f"ZIP {zcta} is not in our ZIP-to-district data. "
                                      "Check it, or use the ZIP of your street address.")


def _cacheable(body: bytes, etag: str, cache_control: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)


def lookup_for_page(args: Mapping[str, str]) -> dict[str, Any] | None:
    """Step 1 of the campaign page: ``{"answer", "status"}``, ``{"error": key}`` or None.

    ``error`` is a translation key; nothing here raises for a supporter's input.
    """
    if not args.get("zip"):
        return None
    try:
        zcta = parse_zip(args.get("zip"))
        result = find_legislators(
            services().legislators.get(db()), zcta, address=parse_address(args.get("address")),
            district=parse_district(args.get("district")), state=args.get("state") or None,
            geocoder=services().geocoder,
        )
    except BadLookupInput as exc:
        return {"error": f"lookup_bad_{exc.field}"}
    except NoSnapshot:
        return {"error": "lookup_no_data"}
    except ZipNotFound:
        return {"error": "lookup_zip_not_found"}
    return {"answer": result.answer, "status": result.address_status}
