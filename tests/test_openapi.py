"""The live app keeps the promises of /api/v1/openapi.json: schemathesis generates the requests
and sends them over HTTP to ``actionwave web`` (gunicorn, as production serves it).

Checks: never a 5xx other than the documented 503, only documented status codes, JSON bodies that
match the documented schemas (so every error is ``{"error": {"field", "message"}}``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from actionwave.accounts.services import create_api_token
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.support import web_processes
from web.openapi import DOCUMENT

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def served(settings: Settings, campaign_slug: str, committed_db: Services,
           tmp_path: Path) -> Iterator[str]:
    """``actionwave web`` with the campaign loaded, the geocoder a closed port (it answers at
    once); yields the base URL."""
    fast = replace(settings, geocoder_url="http://127.0.0.1:1", geocoder_timeout_seconds=0.2,
                   namespace=f"{settings.namespace}-openapi-{time.monotonic_ns()}")
    with web_processes(fast, tmp_path / "web.log", workers=1) as (port, _master):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_documented_promises(served: str, campaign_slug: str,
                                               committed_db: Services,
                                               mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/api/v1/openapi.json")
    # The real campaign's slug, so that valid submissions get as far as the database.
    strategy = schema.as_strategy(mode, path_parameters={"slug": campaign_slug})
    # The wave API is tried as an organizer would call it (the 401 without a token is in the
    # document too): an undocumented route or a loose schema is what let three 500s through.
    with committed_db.session() as session:
        _row, secret = create_api_token(session, "schemathesis", "organizer")
    headers = {"Authorization": f"Bearer {secret}"}

    @given(case=strategy)
    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def keeps_promises(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(base_url=served, timeout=10, headers=headers)
        case.validate_response(response, checks=CHECKS)

    keeps_promises()


def test_the_document_is_served_and_names_every_public_route(client):
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == DOCUMENT and served["openapi"].startswith("3.1")
    assert set(served["paths"]) == {"/api/v1/campaigns/{slug}/actions",
                                    "/api/v1/actions/{action_id}", "/api/v1/legislators",
                                    "/api/v1/waves", "/api/v1/waves/{wave_id}"}
