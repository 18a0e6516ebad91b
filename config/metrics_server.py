"""A metrics-only HTTP listener, for a process that serves no web pages: ``run_cameras``
on a camera host of its own (``CAMERA_METRICS_BIND``).

On the main host every process writes its series to the shared multiprocess folder and
``web`` sums them at ``/metrics``. A second camera host has its own folder and no web
server, so its frames, faces and latencies were visible nowhere. This listener answers
``GET /metrics`` there with the same access rules (``METRICS_TOKEN``,
``METRICS_ALLOWED_NETWORKS``, ``config.metrics_http``) and without the series read from the
database, which the main host already gives once. Any other path is 404, any other method
405; nothing else of the application is served.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIRequest

from config.launcher import parse_bind
from config.metrics_http import metrics_response

logger = logging.getLogger(__name__)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access line per scrape on standard error (Prometheus scrapes every 15 s)."""

    def log_message(self, format: str, *args: Any) -> None:
        """Drop the line."""


def metrics_app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI: ``GET /metrics`` through ``metrics_response``, 404 or 405 otherwise."""
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Only /metrics is served here.\n"]
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET")])
        return [b"Only GET.\n"]
    response = metrics_response(WSGIRequest(environ), from_database=False)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


def serve_metrics(bind: str) -> WSGIServer:
    """Listen on ``bind`` (``HOST:PORT``) in a daemon thread; ``shutdown()`` stops it."""
    host, port = parse_bind(bind)
    server = make_server(
        host, port, metrics_app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-listener", daemon=True).start()
    logger.info("Metrics on http://%s:%s/metrics", host, server.server_port)
    return server
