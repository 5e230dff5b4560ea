"""An HTTP proxy in front of moto's S3 server that answers some requests ``503 SlowDown``,
as S3 does under load (moto never throttles), for the throttling tests.

Every client of a run (boto3, Spark's S3A, delta-rs) is pointed at the proxy's endpoint;
a request the rules pick is answered ``503 SlowDown`` and never reaches moto, the others
are passed on unchanged (moto checks no signature, so the Host header can stay).

Example::

    with ThrottleProxy(moto_endpoint) as proxy:
        proxy.throttle("PUT", "/_runs/", times=2)      # the first two matching requests
        proxy.throttle("PUT", "/_delta_log/")          # every matching request
        ... run against proxy.endpoint ...
        proxy.throttled                                 # [(method, path), ...] answered 503
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import urlsplit

SLOW_DOWN = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
    b"<Message>Please reduce your request rate.</Message></Error>"
)
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "expect"}


@dataclass
class Rule:
    method: str  # "PUT", "GET", ... or "*"
    fragment: str  # a part of the path (URL-decoded as sent: keys keep their slashes)
    times: Optional[int]  # None: every matching request
    seen: int = 0

    def picks(self, method: str, path: str) -> bool:
        if self.method not in ("*", method) or self.fragment not in path:
            return False
        self.seen += 1
        return self.times is None or self.seen <= self.times


class ThrottleProxy:
    """The proxy on 127.0.0.1 (a free port); see the module docstring."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.rules: list[Rule] = []
        self.throttled: list[tuple[str, str]] = []
        self.passed = 0
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def throttle(self, method: str, fragment: str, *, times: Optional[int] = None) -> None:
        with self._lock:
            self.rules.append(Rule(method, fragment, times))

    def decide(self, method: str, path: str) -> bool:
        """True (and counted) when the request is to be answered 503 SlowDown."""
        with self._lock:
            hit = any([rule.picks(method, path) for rule in self.rules])  # every rule counts
            if hit:
                self.throttled.append((method, path))
            else:
                self.passed += 1
            return hit

    def __enter__(self) -> ThrottleProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class _Handler(BaseHTTPRequestHandler):
    proxy: ThrottleProxy  # set on the subclass each proxy serves with
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()  # the blank line after the last chunk
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _relay(self) -> None:
        body = self._body()
        if self.proxy.decide(self.command, self.path):
            self._answer(503, "Slow Down", [("Content-Type", "application/xml")], SLOW_DOWN)
            return
        upstream = http.client.HTTPConnection(
            self.proxy.upstream.hostname, self.proxy.upstream.port, timeout=120
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            length = answer.getheader("Content-Length") if self.command == "HEAD" else None
            self._answer(answer.status, answer.reason, answer.getheaders(), data, length)
        finally:
            upstream.close()

    def _answer(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        data: bytes,
        length: Optional[str] = None,
    ) -> None:
        """The answer with its Content-Length (a HEAD's is the object's, no body)."""
        self.send_response(status, reason)
        for key, value in headers:
            if key.lower() not in _HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay
