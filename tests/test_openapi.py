"""The live app keeps the promises of /api/v1/openapi.json: schemathesis generates the requests.

Checks: never a 5xx other than the documented 503, only documented status codes, JSON bodies that
match the documented schemas (so every error is ``{"error": {"field", "message"}}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from actionwave.config import Settings
from actionwave.services import Services
from web.openapi import DOCUMENT

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def api_app(settings: Settings, campaign_slug: str, committed_db: Services) -> Iterator[Flask]:
    """The app with its campaign loaded; the geocoder is a closed port (answers at once)."""
    from web import create_app

    fast = replace(settings, geocoder_url="http://127.0.0.1:1", geocoder_timeout_seconds=0.2)
    services = Services(fast)
    app = create_app(fast, services)
    yield app
    services.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_documented_promises(api_app: Flask, campaign_slug: str,
                                               mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    # The real campaign's slug, so that valid submissions get as far as the database.
    strategy = schema.as_strategy(mode, path_parameters={"slug": campaign_slug})

    @given(case=strategy)
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def keeps_promises(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    keeps_promises()


def test_the_document_is_served_and_names_every_public_route(client):
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == DOCUMENT and served["openapi"].startswith("3.1")
    assert set(served["paths"]) == {"/api/v1/campaigns/{slug}/actions",
                                    "/api/v1/actions/{action_id}", "/api/v1/legislators"}
