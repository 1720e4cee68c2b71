"""Reading an HTTP request's body under ASGI, within a size limit (every surface's edge)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Receive = Callable[[], Awaitable[dict]]


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
    """The request body, or None once it is over `limit`, declared or actually sent (a
    Content-Length that is not a number counts as too large)."""
    length = headers.get("content-length") or "0"
    declared = int(length) if length.isascii() and length.isdigit() else limit + 1
    if declared > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
