"""The README documents every command a user can run."""

from __future__ import annotations

import typer.main

from bot.cli import app

from conftest import ROOT


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name for c in typer.main.get_command(app).commands.values()]
    assert len(names) >= 15
    missing = [name for name in names if f"ssot {name}" not in readme]
    assert missing == []
