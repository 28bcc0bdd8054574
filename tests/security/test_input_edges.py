"""Findings: `next=` with CR/LF gave a 500; `POST /api/v1/waves` gave a 500 on a naive
`trigger_at`, an object `trigger_stage` and numeric `states` (schemathesis never tried the route:
it was not in the OpenAPI document, and it was not called with a token)."""

from __future__ import annotations

import pytest

from actionwave.accounts.services import create_api_token
from tests.organizer_support import PASSWORD, sqlite_services, store, store_app  # noqa: F401
from tests.test_console import csrf
from web.openapi import DOCUMENT

SLUG = "hketo-certification-act"


@pytest.mark.parametrize("target", ["/console/\r\nSet-Cookie: x=1", "/console/\x00", "/console\\x",
                                    "/console/\x7f"])
def test_next_with_control_characters_falls_back_to_the_dashboard(store, target):  # noqa: F811
    client = store_app(store).test_client()
    response = client.post("/console/login", query_string={"next": target}, data={
        "email": "organizer@example.org", "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/console/"


@pytest.mark.parametrize(("change", "field"), [
    ({"trigger": "time", "trigger_at": "2030-01-01T09:00:00"}, "trigger_at"),
    ({"trigger_at": "2030-01-01T09:00:00"}, "trigger_at"),
    ({"trigger": "stage", "trigger_stage": {"stage": "passed"}}, "trigger_stage"),
    ({"segment": {"states": 5}}, "segment.states"),
    ({"segment": {"states": [5]}}, "segment.states"),
    ({"segment": {"chamber": {"a": 1}}}, "segment.chamber"),
    ({"pace_per_minute": "9"}, "pace_per_minute"),
    ({"name": ["x"]}, "name"),
    ({"surprise": 1}, "surprise"),
])
def test_every_wave_field_is_checked_with_a_4xx_naming_it(store, change, field):  # noqa: F811
    with store.session() as session:
        _row, secret = create_api_token(session, "ops", "organizer")
    client = store_app(store).test_client()
    response = client.post("/api/v1/waves", headers={"Authorization": f"Bearer {secret}"},
                           json={"campaign": SLUG, "name": "w", **change})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field


def test_the_wave_api_is_in_the_document_schemathesis_tests():
    request = DOCUMENT["components"]["schemas"]["WaveRequest"]
    assert request["additionalProperties"] is False
    assert request["properties"]["segment"]["properties"]["states"]["items"] == {"type": "string"}
    assert "post" in DOCUMENT["paths"]["/api/v1/waves"]
