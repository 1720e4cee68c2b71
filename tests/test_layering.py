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
