"""Settings: read from the environment in one place, secrets kept out of logs, all documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from actionwave.platform.config import Settings, SettingsError
from tests.conftest import ROOT


def test_nothing_set_means_the_embedded_default(tmp_path: Path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    assert settings.embedded
    assert settings.database_url == f"sqlite:///{tmp_path / 'actionwave.db'}"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    assert settings.outbox_dir == tmp_path / "outbox"
    # The development secret is generated once and kept.
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).secret_key == settings.secret_key


def test_values_are_typed(tmp_path: Path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "WORKER_CONCURRENCY": "8",
                                  "OUTBOX_POLL_SECONDS": "0.5",
                                  "DATABASE_URL": "postgresql+psycopg://db/aw"})
    assert (settings.worker_concurrency, settings.outbox_poll_seconds) == (8, 0.5)
    assert not settings.embedded


def test_a_bad_value_names_the_variable(tmp_path: Path):
    with pytest.raises(SettingsError, match="WORKER_CONCURRENCY"):
        Settings.from_env({"INSTANCE_PATH": str(tmp_path), "WORKER_CONCURRENCY": "many"})


def test_secrets_never_appear_in_repr(tmp_path: Path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path),
                                  "SENDGRID_API_KEY": "SG.very-secret", "SECRET_KEY": "s3cret",
                                  "MAIL_FROM": "Actionwave <actions@example.org>"})
    assert "very-secret" not in repr(settings) and "s3cret" not in repr(settings)


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    missing = [f.name.upper() for f in fields(Settings) if f.name.upper() not in documented]
    assert missing == [], f"settings missing from the README's table: {missing}"


def test_child_environment_keeps_empty_overrides_and_drops_empty_defaults(tmp_path: Path):
    env = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "RATE_LIMIT_PER_IP": ""}).to_env()
    assert env["RATE_LIMIT_PER_IP"] == ""  # turned off on purpose: the child must see that
    assert "PROMETHEUS_MULTIPROC_DIR" not in env  # empty by default: not "set but empty"
    assert Settings.from_env(env).rate_limit_per_ip == ""
