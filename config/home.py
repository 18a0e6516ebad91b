"""The site's front door: ``/`` (and the admin's "View site") leads to a page that helps.

A fresh install opened at ``http://localhost:8000/`` used to answer a debug 404. The live
page (``/live/``) is where people watch the cameras, so ``/`` leads there. Anonymous
visitors follow the same redirect and meet the admin's sign-in, which returns them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def front_page_url() -> str:
    """The live page: what a first-time visitor wants to see working."""
    return reverse("live")


def home(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: a redirect to ``front_page_url`` (temporary, as the target may change)."""
    return HttpResponseRedirect(front_page_url())
