"""`ssot teams-package`: the Microsoft Teams app package to upload to Teams."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import fail, out


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
    app.command(name="teams-package")(teams_package)


def teams_package(
    app_id: Annotated[str, typer.Option(
        "--app-id", help="The Teams app's id: any GUID, made once and kept for every update.")],
    bot_id: Annotated[str, typer.Option(
        "--bot-id", help="The Azure Bot's Microsoft App ID (TEAMS_CLIENT_ID).")],
    host: Annotated[str, typer.Option(
        "--host", help="The bot's public host name, e.g. bot.example.com.")],
    out_path: Annotated[Path, typer.Option(
        "--out", help="Where to write the package.")] = Path("var/ssot-teams.zip"),
) -> None:
    """Build the Teams app package (manifest and icons) for this install, to upload to Teams."""
    from bot.teams.package import PackageError, build_package, check_host

    try:
        written = build_package(app_id, bot_id, host, out_path)
    except PackageError as exc:
        option = f"--{exc.argument.replace('_', '-')}: " if exc.argument else ""
        raise fail(option + exc.problem, 1) from None
    out.print(f"wrote {written}", markup=False, soft_wrap=True)
    out.print(f"next: check that the Azure Bot's messaging endpoint is "
              f"https://{check_host(host)}/api/messages, then upload {written.name} in the "
              "Teams admin center (Teams apps > Manage apps > Upload new app) or in Teams "
              "(Apps > Manage your apps > Upload an app)", markup=False, soft_wrap=True)
