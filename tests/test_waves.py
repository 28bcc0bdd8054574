"""The organizers' wave API and CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from actionwave.accounts.services import create_api_token
from actionwave.platform.config import Settings
from actionwave.system.services import Services


@pytest.fixture
def tokens(committed_db: Services) -> dict[str, dict[str, str]]:
    """``Authorization`` headers for a viewer and an organizer API token."""
    headers = {}
    with committed_db.session() as session:
        for role in ("viewer", "organizer"):
            _row, secret = create_api_token(session, f"{role} script", role)
            headers[role] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture
def organizer(client, tokens):  # type: ignore[no-untyped-def]
    """The test client, sending the organizer token with every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = tokens["organizer"]["Authorization"]
    return client


def test_anonymous_and_unknown_tokens_are_refused(client, tokens) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Bearer aw_nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/waves", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["field"] == "Authorization"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_viewer_token_reads_waves_but_cannot_change_them(client, tokens) -> None:  # type: ignore[no-untyped-def]
    viewer = tokens["viewer"]
    assert client.get("/api/v1/waves", headers=viewer).status_code == 200
    assert client.post("/api/v1/waves", headers=viewer, json={"name": "x"}).status_code == 403
    assert client.post("/api/v1/waves/1/launch", headers=viewer).status_code == 403


def test_organizer_creates_launches_pauses_and_cancels_a_wave(  # type: ignore[no-untyped-def]
    organizer, committed_db: Services, campaign_slug: str,
) -> None:
    created = organizer.post("/api/v1/waves", json={
        "campaign": campaign_slug, "name": "Call your senators",
        "segment": {"states": ["CA"], "chamber": "senate"}})
    assert created.status_code == 201
    wave = created.get_json()
    assert wave["status"] == "draft" and wave["segment"]["states"] == ["CA"]
    base = f"/api/v1/waves/{wave['id']}"
    assert organizer.post(f"{base}/launch").get_json()["status"] == "running"
    assert organizer.post(f"{base}/launch").status_code == 409
    assert organizer.post(f"{base}/pause").get_json()["status"] == "paused"
    assert organizer.post(f"{base}/resume").get_json()["status"] == "running"
    assert organizer.post(f"{base}/cancel").get_json()["status"] == "cancelled"
    listed = organizer.get("/api/v1/waves").get_json()["waves"]
    assert [w["id"] for w in listed] == [wave["id"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "segment": {"states": ["California"]}}, "segment.states"),
    ({"name": "x", "trigger": "stage", "trigger_stage": "signed"}, "trigger_stage"),
    ({"name": "x", "trigger": "time", "trigger_at": "tomorrow"}, "trigger_at"),
    ({"name": "", "segment": {}}, "name"),
    ({"name": "x", "pace_per_minute": "fast"}, "pace_per_minute"),
    ({"name": "Wave \ud800"}, "name"),  # a lone surrogate: valid JSON, not storable text
    ({"name": "x", "campaign": "c\udfff"}, "campaign"),
])
def test_bad_wave_is_answered_with_the_field_to_fix(  # type: ignore[no-untyped-def]
    organizer, campaign_slug: str, body: dict, field: str,
) -> None:
    response = organizer.post("/api/v1/waves",
                              json={"campaign": campaign_slug, **body})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_cli_creates_launches_and_reports_a_wave(  # type: ignore[no-untyped-def]
    settings: Settings, committed_db: Services, campaign_slug: str, monkeypatch,
) -> None:
    from actionwave.cli import cli
    from actionwave.cli.waves import wave

    cli.add_command(wave)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    created = runner.invoke(cli, ["wave", "create", "--campaign", campaign_slug, "--name", "w"])
    assert created.exit_code == 0, created.output
    wave_id = created.output.split()[2]
    launched = runner.invoke(cli, ["wave", "launch", wave_id])
    assert launched.exit_code == 0 and '"fanned_out": true' in launched.output
    status = runner.invoke(cli, ["wave", "status", wave_id])
    assert '"status": "running"' in status.output
    assert runner.invoke(cli, ["wave", "resume", wave_id]).exit_code == 1


def test_waves_are_listed_per_campaign(  # type: ignore[no-untyped-def]
    organizer, committed_db: Services, campaign_slug: str, second_campaign: str,
) -> None:
    ids = {slug: organizer.post("/api/v1/waves", json={"campaign": slug, "name": slug})
           .get_json()["id"] for slug in (campaign_slug, second_campaign)}
    for slug, wave_id in ids.items():
        listed = organizer.get(f"/api/v1/waves?campaign={slug}").get_json()["waves"]
        assert [w["id"] for w in listed] == [wave_id]
    assert len(organizer.get("/api/v1/waves").get_json()["waves"]) == 2
    unknown = organizer.get("/api/v1/waves?campaign=nope")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["field"] == "campaign"
