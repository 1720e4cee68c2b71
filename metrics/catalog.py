"""The ids of the governed metric definitions in `metrics/definitions/`."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"


def metric_ids(directory: Path = DEFINITIONS_DIR) -> set[str]:
    """Ids declared by `*.yml` files; a file that does not parse contributes none."""
    ids = set()
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.add(data["id"])
    return ids
