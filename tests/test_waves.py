"""The organizers' wave API and CLI."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from actionwave.config import Settings
from actionwave.services import Services

TOKEN = "organizer-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def organizer(settings: Settings):  # type: ignore[no-untyped-def]
    from web import create_app

    organizer_settings = replace(settings, organizer_token=TOKEN)
    services = Services(organizer_settings)
    app = create_app(organizer_settings, services)
    app.config["TESTING"] = True
    yield app.test_client()
    services.close()


def test_without_a_configured_token_the_organizer_api_is_disabled(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/waves", headers=AUTH)
    assert response.status_code == 403
    assert "disabled" in response.get_json()["error"]["message"]


def test_wrong_token_is_refused(organizer) -> None:  # type: ignore[no-untyped-def]
    response = organizer.get("/api/v1/waves", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["field"] == "Authorization"


def test_organizer_creates_launches_pauses_and_cancels_a_wave(  # type: ignore[no-untyped-def]
    organizer, committed_db: Services, campaign_slug: str,
) -> None:
    created = organizer.post("/api/v1/waves", headers=AUTH, json={
        "campaign": campaign_slug, "name": "Call your senators",
        "segment": {"states": ["CA"], "chamber": "senate"}})
    assert created.status_code == 201
    wave = created.get_json()
    assert wave["status"] == "draft" and wave["segment"]["states"] == ["CA"]
    base = f"/api/v1/waves/{wave['id']}"
    assert organizer.post(f"{base}/launch", headers=AUTH).get_json()["status"] == "running"
    assert organizer.post(f"{base}/launch", headers=AUTH).status_code == 409
    assert organizer.post(f"{base}/pause", headers=AUTH).get_json()["status"] == "paused"
    assert organizer.post(f"{base}/resume", headers=AUTH).get_json()["status"] == "running"
    assert organizer.post(f"{base}/cancel", headers=AUTH).get_json()["status"] == "cancelled"
    listed = organizer.get("/api/v1/waves", headers=AUTH).get_json()["waves"]
    assert [w["id"] for w in listed] == [wave["id"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "segment": {"states": ["California"]}}, "segment.states"),
    ({"name": "x", "trigger": "stage", "trigger_stage": "signed"}, "trigger_stage"),
    ({"name": "x", "trigger": "time", "trigger_at": "tomorrow"}, "trigger_at"),
    ({"name": "", "segment": {}}, "name"),
    ({"name": "x", "pace_per_minute": "fast"}, "pace_per_minute"),
])
def test_bad_wave_is_answered_with_the_field_to_fix(  # type: ignore[no-untyped-def]
    organizer, campaign_slug: str, body: dict, field: str,
) -> None:
    response = organizer.post("/api/v1/waves", headers=AUTH,
                              json={"campaign": campaign_slug, **body})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_cli_creates_launches_and_reports_a_wave(  # type: ignore[no-untyped-def]
    settings: Settings, committed_db: Services, campaign_slug: str, monkeypatch,
) -> None:
    from actionwave.cli import cli
    from actionwave.waves.cli import wave

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
