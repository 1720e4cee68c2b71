"""Running apps in tests: a free port, waiting until healthy, waiting on a condition."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable

import pytest


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, output: Callable[[], str],
                 timeout: float = 300) -> None:
    """Until `/healthz` answers 200; fails with the server's last output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"ssot serve exited: {output()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("ssot serve did not become healthy")


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> object:
    """Poll until `condition()` is truthy and return it; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return found
