"""The delivery agent's settings: a worker with CWC configured refuses to start with settings
CWC would refuse, naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from actionwave.cwc.agent import AgentSettingsError, agent_problems, check_agent_settings
from actionwave.platform.config import Settings
from tests.conftest import ROOT
from tests.stubs.cwc import AGENT

CWC = {"cwc_api_url": "http://127.0.0.1:9/v2", "cwc_api_key": "k"}


def test_good_settings_have_no_problems(settings: Settings) -> None:
    assert agent_problems(replace(settings, **CWC, **AGENT)) == []
    assert agent_problems(replace(settings, **CWC, **{**AGENT, "cwc_organization": ""})) == []


def test_each_bad_setting_is_named(settings: Settings) -> None:
    bad = replace(settings, **CWC, cwc_delivery_agent="AW", cwc_agent_contact_name="Al",
                  cwc_agent_contact_email="nobody", cwc_agent_contact_phone="(202) 555-0123",
                  cwc_organization="Org")
    assert agent_problems(bad) == [
        "CWC_DELIVERY_AGENT: at least 4 characters (has 2)",
        "CWC_AGENT_CONTACT_NAME: at least 6 characters (has 2)",
        "CWC_AGENT_CONTACT_EMAIL: must look like name@example.org",
        "CWC_AGENT_CONTACT_PHONE: must look like 202-555-0123",
        "CWC_ORGANIZATION: at least 6 characters (has 3)",
    ]
    missing = replace(settings, **CWC)
    assert [p.split(":")[0] for p in agent_problems(missing)] == [
        "CWC_AGENT_CONTACT_NAME", "CWC_AGENT_CONTACT_EMAIL", "CWC_AGENT_CONTACT_PHONE"]


def test_nothing_is_checked_without_cwc(settings: Settings) -> None:
    check_agent_settings(settings)
    with pytest.raises(AgentSettingsError, match="CWC_AGENT_CONTACT_PHONE"):
        check_agent_settings(replace(settings, **CWC, **{**AGENT,
                                                         "cwc_agent_contact_phone": "5550123"}))


def test_a_worker_with_a_bad_phone_does_not_start(settings: Settings) -> None:
    env = {**os.environ, **replace(settings, **CWC, **AGENT).to_env(),
           "CWC_AGENT_CONTACT_PHONE": "202.555.0123"}
    result = subprocess.run([sys.executable, "-m", "actionwave", "worker"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "CWC_AGENT_CONTACT_PHONE: must look like 202-555-0123" in result.stderr
