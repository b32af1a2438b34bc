"""Serve a folder of test pages on 127.0.0.1 from a background thread (no Django needed)."""

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        return  # one line per request would bury the test output


@contextlib.contextmanager
def pages_served(directory: Path) -> Iterator[str]:
    """Yield the base URL (no trailing slash) of `directory` served over HTTP on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietPages, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"pages-{directory.name}")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
