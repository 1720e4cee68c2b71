"""The Teams app package: teams/manifest.json filled with this install's ids and host, zipped
with the two icons, ready to upload to Teams."""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "teams"
# The sizes Teams requires; it refuses a package whose icons differ.
ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}
# Teams shows at most 10 commands per bot menu and per message extension; its schema's own
# maximum (12 for bot menus since v1.25) is not what every Teams client accepts.
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128

_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PLACEHOLDER = re.compile(r"\$\{[A-Z_]+\}")
_GUID_HINTS = {"app_id": "the Teams app's own id: make one once, e.g. with uuidgen, and keep it",
               "bot_id": "the Azure Bot's Microsoft App ID, from its Configuration page"}


class PackageError(ValueError):
    """Why no package was written, naming the bad argument when there is one."""

    def __init__(self, problem: str, argument: str | None = None) -> None:
        super().__init__(f"{argument}: {problem}" if argument else problem)
        self.problem = problem
        self.argument = argument


def build_package(app_id: str, bot_id: str, host: str, out: Path,
                  template_dir: Path = TEMPLATE_DIR) -> Path:
    """Write the app package to `out` (a .zip) and return its path."""
    values = {"APP_ID": check_guid(app_id, "app_id"), "BOT_ID": check_guid(bot_id, "bot_id"),
              "HOST": check_host(host)}
    manifest = fill_manifest(template_dir / "manifest.json", values)
    check_limits(manifest)
    icons = {name: _read_icon(template_dir / name, size) for name, size in ICONS.items()}
    files = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
             **icons}
    return _write_zip(out, files)


def check_guid(value: str, argument: str) -> str:
    """`value`, in lower case, when it is a GUID like 6f1c2d3e-0000-4000-8000-00000000abcd."""
    value = value.strip()
    if not _GUID.fullmatch(value):
        raise PackageError(f"'{value}' is not a GUID like 6f1c2d3e-0000-4000-8000-00000000abcd "
                           f"({_GUID_HINTS.get(argument, 'a GUID')})", argument)
    return value.lower()


def check_host(value: str) -> str:
    """`value` in lower case when it is a bare host name such as bot.example.com."""
    host = value.strip().lower()
    if "://" in host:
        raise PackageError(f"give the bare host name, without a scheme: "
                           f"'{host.split('://', 1)[1].split('/')[0]}', not '{value}'", "host")
    if "/" in host:
        raise PackageError(f"give the bare host name, without a path: "
                           f"'{host.split('/')[0]}', not '{value}'", "host")
    if ":" in host:
        raise PackageError(f"give the bare host name, without a port: '{value}' (the "
                           "messaging endpoint is https://HOST/api/messages)", "host")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise PackageError(f"'{value}' is not a host name like bot.example.com", "host")
    return host


def fill_manifest(template: Path, values: dict[str, str]) -> dict:
    """The template with every ${NAME} replaced, parsed; a leftover placeholder is an error."""
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise PackageError(f"cannot read the manifest template {template}: "
                           f"{exc.strerror or exc}") from None
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    leftover = sorted(set(_PLACEHOLDER.findall(text)))
    if leftover:
        raise PackageError(f"{template}: no value for {', '.join(leftover)}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackageError(f"{template}:{exc.lineno}: not valid JSON once filled: "
                           f"{exc.msg}") from None


def check_limits(manifest: dict) -> None:
    """Raise on the first command list or command Teams would refuse."""
    for bot in manifest.get("bots", []):
        for lists in bot.get("commandLists", []):
            where = f"bot commands for {', '.join(lists.get('scopes', [])) or 'no scope'}"
            _check_commands(lists.get("commands", []), where)
    for extension in manifest.get("composeExtensions", []):
        _check_commands(extension.get("commands", []), "message extension commands")


def _check_commands(commands: list[dict], where: str) -> None:
    if len(commands) > MAX_COMMANDS:
        raise PackageError(f"{where}: {len(commands)} commands; Teams allows {MAX_COMMANDS}")
    for command in commands:
        title = command.get("title", "")
        if not title or len(title) > MAX_TITLE:
            raise PackageError(f"{where}: the title '{title}' must have 1 to {MAX_TITLE} "
                               "characters")
        if len(command.get("description", "")) > MAX_DESCRIPTION:
            raise PackageError(f"{where}: the description of '{title}' is longer than "
                               f"{MAX_DESCRIPTION} characters")


def _read_icon(path: Path, size: tuple[int, int]) -> bytes:
    try:
        data = path.read_bytes()
        with Image.open(path) as image:
            found = image.size
    except (OSError, UnidentifiedImageError) as exc:
        raise PackageError(f"cannot read the icon {path}: {exc}") from None
    if found != size:
        raise PackageError(f"{path} is {found[0]}x{found[1]}; Teams needs {size[0]}x{size[1]}")
    return data


def _write_zip(out: Path, files: dict[str, str | bytes]) -> Path:
    """Write the zip next to `out` and move it into place: no half-written package is left."""
    if out.is_dir():
        raise PackageError(f"{out} is a folder; give the path of the .zip to write", "out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:
        raise PackageError(f"cannot write to {out.parent}: {exc.strerror or exc}", "out") \
            from None
    try:
        with os.fdopen(handle, "wb") as raw, \
                zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as package:
            for name, data in files.items():
                package.writestr(name, data)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the package holds no secret
        os.replace(temp, out)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise PackageError(f"cannot write {out}: {exc.strerror or exc}", "out") from None
    return out
