"""Content negotiation for views whose ``?format=`` chooses a file format themselves.

DRF reads ``?format=`` as a renderer choice and answers 404 for ``csv`` when only JSON
is configured. The roll call and the export read that parameter on their own and return
the file directly, so here JSON (the error envelope, the JSON form) is always chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always the view's first renderer (JSON), whatever ``format`` or ``Accept`` say."""

    def select_parser(self, request: Request, parsers: Sequence[Any]) -> Any:
        """The first parser; these views take no body."""
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """The first renderer and its media type."""
        renderer = renderers[0]
        return renderer, renderer.media_type
