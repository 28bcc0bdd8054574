"""The delivery agent's settings, checked against the CWC grammar before any worker sends.

Every CWC document carries who delivers it and whom House staff can call about it. A worker with
CWC configured refuses to start while one of these settings would make every document invalid,
with an error that names the setting; ``actionwave doctor`` reports the same.
"""

from __future__ import annotations

from actionwave.cwc.client import CwcClient
from actionwave.cwc.grammar import FIELDS
from actionwave.platform.config import Settings, SettingsError

# Setting -> the document element it fills, and whether CWC requires it.
AGENT_SETTINGS = (
    ("CWC_DELIVERY_AGENT", "Delivery/DeliveryAgent", True),
    ("CWC_AGENT_CONTACT_NAME", "Delivery/DeliveryAgentContact/DeliveryAgentContactName", True),
    ("CWC_AGENT_CONTACT_EMAIL", "Delivery/DeliveryAgentContact/DeliveryAgentContactEmail", True),
    ("CWC_AGENT_CONTACT_PHONE", "Delivery/DeliveryAgentContact/DeliveryAgentContactPhone", True),
    ("CWC_ORGANIZATION", "Delivery/Organization", False),
)


class AgentSettingsError(SettingsError):
    """A delivery agent setting would make every CWC document invalid."""


def agent_problems(settings: Settings) -> list[str]:
    """``SETTING: what is wrong`` for each delivery agent setting CWC would refuse; empty when
    all are fine. Pure."""
    problems = []
    for name, path, required in AGENT_SETTINGS:
        value = getattr(settings, name.lower())
        if not value:
            if required:
                problems.append(f"{name}: required when CWC_API_URL and CWC_API_KEY are set")
            continue
        problem = FIELDS[path].problem(value)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def check_agent_settings(settings: Settings) -> None:
    """Raise ``AgentSettingsError`` naming every bad setting (no-op without CWC configured)."""
    if not CwcClient.configured(settings):
        return
    problems = agent_problems(settings)
    if problems:
        raise AgentSettingsError("; ".join(problems))
