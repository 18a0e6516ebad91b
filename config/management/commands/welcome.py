"""``manage.py welcome``: the addresses to open once ``make run`` has started the server.

Printed by ``make run`` just before the server starts, so a first-time user knows where
to go: the live page, the admin and the API docs.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.urls import reverse

#: Listening on every address is opened in a browser as localhost.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 - a comparison, not a bind


def site_urls(base: str) -> list[tuple[str, str]]:
    """(what, URL) for each page worth opening first."""
    pages = [
        ("Live page", reverse("live")),
        ("Admin (back-office)", reverse("admin:index")),
        ("API docs", reverse("docs")),
    ]
    return [(label, f"{base}{path}") for label, path in pages]


class Command(BaseCommand):
    """Print the URLs to open in a browser."""

    help = "Print the addresses of the live page, the admin and the API docs."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The address and port the server listens on (``make run``'s HOST and PORT)."""
        parser.add_argument("--host", default="localhost")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        """One line per page, after a heading."""
        host = "localhost" if options["host"] in _ANY_ADDRESS else options["host"]
        base = f"http://{host}:{options['port']}"
        self.stdout.write(self.style.SUCCESS("Presence is starting. Open:"))
        for label, url in site_urls(base):
            self.stdout.write(f"  {label:<20} {url}")
