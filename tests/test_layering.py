"""The core never depends on a chat surface: knowledge/ and metrics/ import no bot or Slack."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = ("bot", "slack_bolt", "slack_sdk", "typer", "rich")


@pytest.mark.parametrize("package", ["knowledge", "metrics"])
def test_core_does_not_import_surfaces(package):
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


PLATFORMS = ("slack_bolt", "slack_sdk", "microsoft_teams", "typer", "rich")
# What every surface shares: the chat core, the state store and the one entry point.
SHARED = ("bot/chat", "bot/state", "bot/services.py", "bot/current_values.py")


@pytest.mark.parametrize("part", SHARED)
def test_shared_chat_code_imports_no_platform(part):
    paths = [ROOT / part] if part.endswith(".py") else sorted((ROOT / part).rglob("*.py"))
    assert paths
    offenders = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] in PLATFORMS
                          or n.startswith(("bot.slack", "bot.teams", "bot.cli", "bot.console"))]
    assert offenders == []
