"""The manifests a workspace admin pastes declare exactly what the app listens for."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.slack.shortcuts import EXPLAIN_TERMS
from tests.conftest import ROOT

SLACK = ROOT / "slack"


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket-mode.yml"])
def test_manifest_matches_the_listeners(name):
    manifest = yaml.safe_load((SLACK / name).read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    commands = {c["command"] for c in features["slash_commands"]}
    assert commands == {"/define", "/metric", "/ssot"} == {
        c for path in (ROOT / "bot" / "slack").glob("*.py")
        for c in re.findall(r'app\.command\("([^"]+)"\)', path.read_text())}
    assert [s["callback_id"] for s in features["shortcuts"]] == [EXPLAIN_TERMS]
    assert features["app_home"]["home_tab_enabled"] is True
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:read",
            "usergroups:read", "files:write"} <= scopes
    assert settings["interactivity"]["is_enabled"] is True
    socket = settings["socket_mode_enabled"]
    assert socket is (name == "manifest.socket-mode.yml")
    urls = [c.get("url") for c in features["slash_commands"]]
    urls += [settings["event_subscriptions"].get("request_url"),
             settings["interactivity"].get("request_url")]
    if socket:
        assert urls == [None] * 5
    else:
        assert all(url == "https://YOUR-HOST/slack/events" for url in urls)
