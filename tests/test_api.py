"""The intake API over HTTP: status codes, error bodies, both encodings."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionwave.intake.submissions import ALLOWED

VALID = {"email": "kit@example.org", "first_name": "Kit", "last_name": "Wong", "zip": "60601"}


@pytest.fixture
def url(campaign_slug: str, committed_db) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/campaigns/{campaign_slug}/actions"


def test_json_submission_is_accepted_with_a_status_url(client, url: str):
    response = client.post(url, json=VALID)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "accepted" and body["status_url"] == f"/api/v1/actions/{body['id']}"
    state = client.get(body["status_url"]).get_json()
    assert state["id"] == body["id"] and state["status"] == "accepted"


def test_form_encoded_submission_gets_the_same_validation(client, url: str):
    assert client.post(url, data=VALID).status_code == 202
    response = client.post(url, data={**VALID, "zip": "abc"})
    assert response.status_code == 422
    assert response.get_json() == {"error": {"field": "zip",
                                             "message": "must be a five-digit ZIP code"}}


def test_repeat_submission_returns_the_same_action(client, url: str):
    first = client.post(url, json=VALID).get_json()
    second = client.post(url, json={**VALID, "first_name": "Kitty"}).get_json()
    assert second["id"] == first["id"] and second["created"] is False


def test_unknown_field_is_refused_by_name(client, url: str):
    response = client.post(url, json={**VALID, "role": "admin"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "role"


def test_header_injection_in_names_is_refused(client, url: str):
    response = client.post(url, json={**VALID, "last_name": "Wong\nBcc: x@example.org"})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "last_name"


def test_malformed_json_is_a_400(client, url: str):
    response = client.post(url, data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"


def test_json_that_is_not_an_object_is_a_400(client, url: str):
    response = client.post(url, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"


def test_wrong_content_type_is_a_415(client, url: str):
    response = client.post(url, data="email=x", content_type="text/plain")
    assert response.status_code == 415


def test_oversized_body_is_a_413(client, url: str):
    response = client.post(url, json={**VALID, "message": "x" * 40_000})
    assert response.status_code == 413
    assert response.get_json()["error"]["field"] == "body"


def test_unknown_campaign_is_a_404(client, committed_db):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/campaigns/nope/actions", json=VALID)
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "slug"


def test_unknown_action_is_a_404(client):
    assert client.get("/api/v1/actions/not-a-uuid").status_code == 404
    assert client.get("/api/v1/actions/00000000-0000-0000-0000-000000000000").status_code == 404


def test_honeypot_looks_accepted_but_stores_nothing(client, url: str):
    response = client.post(url, json={**VALID, "website": "http://spam.example"})
    assert response.status_code == 202
    assert client.get(response.get_json()["status_url"]).status_code == 404


def test_status_reveals_no_supporter_data(client, url: str):
    body = client.post(url, json=VALID).get_json()
    state = json.dumps(client.get(body["status_url"]).get_json())
    assert "kit@example.org" not in state and "Wong" not in state


fields = st.sampled_from([*sorted(ALLOWED), "extra", ""])
values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=300),
                   st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(), st.text()))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(fields, values, max_size=12))
def test_fuzzed_bodies_never_get_a_500(client, url: str, body: dict):
    response = client.post(url, json=body)
    assert response.status_code in (202, 400, 404, 413, 415, 422)
    if response.status_code != 202:
        error = response.get_json()["error"]
        assert error["message"] and "Traceback" not in error["message"]
