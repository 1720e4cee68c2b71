"""`ssot metrics`, `ssot metric`, `ssot sql`: governed metrics on the command line."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
