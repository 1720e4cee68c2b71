"""A Web API client that keeps its connection to Slack open between calls.

slack_sdk's `WebClient` opens a new urllib connection for every call, so each answer posted
pays a TCP and TLS handshake with slack.com before Slack sees it. This client keeps one
connection per thread and reuses it; retries, rate limits and errors stay slack_sdk's.
"""

from __future__ import annotations

import http.client
import select
import threading
import time
from io import BytesIO
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient


class KeepAliveWebClient(WebClient):
    """`WebClient` over a persistent HTTP/1.1 connection per thread (none through a proxy)."""

    # Servers drop idle connections after a while; past this, open a new one rather than
    # find out by a failed post.
    max_idle_s = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith(("http://", "https://")):
            return super()._perform_urllib_http_request_internal(url, req)
        conn = self._connection(url)
        try:
            conn.request(req.get_method(), req.selector, body=req.data,
                         headers=dict(req.header_items()))
        except (OSError, http.client.HTTPException) as exc:
            self._forget()
            raise URLError(exc) from exc  # as urlopen reports it, so retry handlers match
        try:
            response = conn.getresponse()
            body = response.read()
        except BaseException:
            self._forget()
            raise
        if response.will_close:
            self._forget()
        else:
            self._local.used_at = time.monotonic()
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, response.headers,
                            BytesIO(body))
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        charset = response.headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.headers,
                "body": body.decode(charset)}

    def _connection(self, url: str) -> http.client.HTTPConnection:
        target = urlsplit(url)
        key = (target.scheme, target.netloc)
        conn = getattr(self._local, "conn", None)
        if conn is not None and (self._local.key != key or self._stale(conn)):
            self._forget()
            conn = None
        if conn is None:
            if target.scheme == "https":
                conn = http.client.HTTPSConnection(target.hostname, target.port,
                                                   timeout=self.timeout, context=self.ssl)
            else:
                conn = http.client.HTTPConnection(target.hostname, target.port,
                                                  timeout=self.timeout)
            self._local.conn, self._local.key = conn, key
        return conn

    def _stale(self, conn: http.client.HTTPConnection) -> bool:
        if time.monotonic() - getattr(self._local, "used_at", 0.0) > self.max_idle_s:
            return True
        # An idle connection with something to read has been closed by the server.
        return conn.sock is not None and bool(select.select([conn.sock], [], [], 0)[0])

    def _forget(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
