"""Finding 7: demo data only ever at the demo path, and answers from it say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SSOT = str(Path(sys.executable).parent / "ssot")


def ssot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SSOT_AS_OF": "2026-11-15",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
            "SSOT_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([SSOT, *args], cwd=tmp_path, env={**base, **env},
                          capture_output=True, text=True, timeout=600)


def test_a_configured_warehouse_that_does_not_exist_is_an_error(tmp_path):
    missing = tmp_path / "prod.duckdb"
    run = ssot(tmp_path, "metric", "bookings", WAREHOUSE_URL=f"duckdb:///{missing}")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"the warehouse {missing} (WAREHOUSE_URL) does not exist" in run.stderr
    assert not missing.exists()  # never filled with synthetic numbers

    asked = ssot(tmp_path, "ask", "--json", "bookings last quarter",
                 WAREHOUSE_URL=f"duckdb:///{missing}")
    answer = json.loads(asked.stdout)
    assert answer["result"] is None and "warehouse" in (answer["notice"] or answer["message"])
    assert not missing.exists()


def test_the_demo_warehouse_is_made_at_its_own_path_and_says_it_is_demo_data(tmp_path):
    demo = tmp_path / "demo.duckdb"
    run = ssot(tmp_path, "metric", "bookings", "--json", SSOT_DEMO_WAREHOUSE=str(demo))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert demo.exists() and result["value"] > 0 and result["demo"] is True
    shown = ssot(tmp_path, "metric", "bookings", SSOT_DEMO_WAREHOUSE=str(demo), COLUMNS="200")
    assert "demo data, not your warehouse" in shown.stdout
