"""A loopback HTTP server for tests: serves a dict of paths, counts requests.

Only ever binds 127.0.0.1; the test that starts it stops it.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackSite:
    """``with LoopbackSite({"/feed.xml": (200, "application/rss+xml", body)}) as site: site.url("/feed.xml")``.

    Bodies may contain ``{{BASE}}``, replaced by the server's base URL. For a
    redirect status (301, 302, 307, 308) the body is the ``Location``.
    """

    def __init__(self, routes: dict[str, tuple[int, str, str | bytes]]):
        self.routes = routes
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                path = self.path.split("?")[0]
                site.hits[path] += 1
                status, ctype, body = site.routes.get(path, (404, "text/plain", "not found"))
                if isinstance(body, str):
                    body = body.replace("{{BASE}}", site.base).encode("utf-8")
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", body.decode("utf-8"))
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> LoopbackSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
