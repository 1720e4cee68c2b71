"""What every `ssot` command module shares: consoles, clean exits, settings."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.settings import Settings, get_settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (1: failed, 2: usage)."""
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """The cached settings, or a one-line configuration error."""
    try:
        return get_settings()
    except ValueError as exc:
        raise fail(f"bad configuration: {exc}".replace("\n", " "), 2) from None


def within(value: int, option: str, low: int, high: int) -> int:
    """`value` when it lies in low..high, else a one-line usage error naming the option."""
    if not low <= value <= high:
        raise fail(f"{option} must be from {low:,} to {high:,}, got {value}", 2)
    return value
