"""`ssot teams-package`: the zip an admin uploads to Teams, filled in for their install."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.teams.package import PackageError, build_package
from tests.conftest import ROOT

SSOT = str(Path(sys.executable).parent / "ssot")
APP_ID = "6f1c2d3e-0000-4000-8000-00000000abcd"
BOT_ID = "11111111-2222-4333-8444-555555555555"
CHANNEL_COMMANDS = ["define", "metric", "help", "glossary", "metrics", "subscribe",
                    "unsubscribe", "subscriptions", "history", "changes"]


def teams_package(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # Only what the command needs: nothing from the developer's environment or .env.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(cwd)}
    return subprocess.run([SSOT, "teams-package", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_package_is_filled_in_for_this_install(tmp_path):
    done = teams_package(tmp_path, "--app-id", APP_ID.upper(), "--bot-id", BOT_ID,
                         "--host", "Bot.Example.com")
    assert done.returncode == 0, done.stderr
    assert "wrote var/ssot-teams.zip" in done.stdout
    assert "https://bot.example.com/api/messages" in done.stdout and "Upload" in done.stdout

    with zipfile.ZipFile(tmp_path / "var" / "ssot-teams.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        text = package.read("manifest.json").decode()
        icons = {name: Image.open(io.BytesIO(package.read(name))) for name in
                 ("color.png", "outline.png")}
    assert "${" not in text
    manifest = json.loads(text)
    assert manifest["id"] == APP_ID
    assert manifest["name"] == {"short": "ssot", "full": "ssot: revenue source of truth"}
    assert manifest["validDomains"] == ["bot.example.com"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    [bot] = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"] and bot["supportsFiles"] is False
    menus = {lists["scopes"][0]: lists["commands"] for lists in bot["commandLists"]}
    assert [len(lists["scopes"]) for lists in bot["commandLists"]] == [1, 1, 1]
    assert [c["title"] for c in menus["team"]] == CHANNEL_COMMANDS
    assert [c["title"] for c in menus["groupChat"]] == CHANNEL_COMMANDS
    assert [c["title"] for c in menus["personal"]] == [
        "define", "metric", "help", "glossary", "metrics", "history", "changes", "gaps"]
    usage = {c["title"]: c["description"] for c in menus["personal"]}
    assert usage["define"] == "define TERM [as of YYYY-MM-DD]"
    assert usage["metric"] == "metric ID-or-question [period] [by DIM]"

    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == BOT_ID
    search, action = extension["commands"]
    assert (search["id"], search["type"], search["title"]) == ("defineTerm", "query",
                                                               "Define a term")
    assert [p["name"] for p in search["parameters"]] == ["term"]
    assert search["initialRun"] is False
    assert (action["id"], action["type"], action["title"]) == (
        "explainTerms", "action", "Explain terms in this message")
    assert action["context"] == ["message"] and action["fetchTask"] is False

    assert icons["color.png"].size == (192, 192)
    outline = icons["outline.png"].convert("RGBA")
    assert outline.size == (32, 32)
    pixels = np.asarray(outline).reshape(-1, 4)
    visible = {tuple(int(v) for v in rgb) for rgb in pixels[pixels[:, 3] > 0, :3]}
    assert visible == {(255, 255, 255)}  # white on transparent, as Teams requires


def test_out_puts_the_package_where_asked(tmp_path):
    target = tmp_path / "packages" / "prod.zip"
    done = teams_package(tmp_path, "--app-id", APP_ID, "--bot-id", BOT_ID,
                         "--host", "bot.example.com", "--out", str(target))
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    with zipfile.ZipFile(target) as package:
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == BOT_ID
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--app-id", "my-app", "'my-app' is not a GUID"),
    ("--bot-id", "11111111-2222-4333-8444", "is not a GUID"),
    ("--host", "https://bot.example.com/api/messages", "without a scheme: 'bot.example.com'"),
    ("--host", "bot.example.com/api/messages", "without a path: 'bot.example.com'"),
    ("--host", "bot.example.com:8443", "without a port"),
    ("--host", "localhost", "not a host name like bot.example.com"),
])
def test_bad_arguments_are_one_line_errors_naming_the_option(tmp_path, option, value, expected):
    args = {"--app-id": APP_ID, "--bot-id": BOT_ID, "--host": "bot.example.com", option: value}
    done = teams_package(tmp_path, *[part for pair in args.items() for part in pair])
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {option}: ") and expected in line
    assert not (tmp_path / "var").exists()


@pytest.fixture
def template(tmp_path) -> Path:
    """An editable copy of teams/."""
    return Path(shutil.copytree(ROOT / "teams", tmp_path / "teams"))


def test_a_menu_teams_would_refuse_is_not_packaged(template, tmp_path):
    manifest = json.loads((template / "manifest.json").read_text(encoding="utf-8"))
    manifest["bots"][0]["commandLists"][1]["commands"].append(
        {"title": "gaps", "description": "gaps: unanswered questions"})
    (template / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "ssot-teams.zip"
    with pytest.raises(PackageError, match=r"bot commands for team: 11 commands; Teams allows 10"):
        build_package(APP_ID, BOT_ID, "bot.example.com", out, template_dir=template)
    assert not out.exists()


def test_an_icon_of_the_wrong_size_is_named(template, tmp_path):
    Image.new("RGBA", (64, 64)).save(template / "outline.png")
    with pytest.raises(PackageError, match=r"outline\.png is 64x64; Teams needs 32x32"):
        build_package(APP_ID, BOT_ID, "bot.example.com", tmp_path / "p.zip",
                      template_dir=template)
