"""What the HTTP benchmarks share: percentiles, a process's CPU time, a free port, and a
burst of prepared requests released at one instant."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import urllib.parse
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_at(base: str, requests: list[bytes], start_at: float) -> list[tuple[int, float]]:
    """Send prepared raw HTTP requests, each on a new connection, all at `start_at`;
    (status, ms) for each. Runs in a client process of its own (see the benchmarks)."""
    parsed = urllib.parse.urlsplit(base)

    async def one(raw: bytes) -> tuple[int, float]:
        began = time.perf_counter()
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        elapsed = (time.perf_counter() - began) * 1000
        writer.close()
        return int(head.split(b" ", 2)[1]), elapsed

    async def all_at_once() -> list[tuple[int, float]]:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        return await asyncio.gather(*(one(raw) for raw in requests))

    return asyncio.run(all_at_once())
