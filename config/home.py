"""The site's front door: ``/`` (and the admin's "View site") leads to a page that helps.

A fresh install opened at ``http://localhost:8000/`` used to answer a debug 404. The live
page (``/live/``, URL name ``live``) is where people watch the cameras; until a server has
one, ``/`` leads to the admin instead. Anonymous visitors follow the same redirect and meet
that page's own sign-in.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse


def front_page_url() -> str:
    """The live page if this server has one, else the admin's index."""
    try:
        return reverse("live")
    except NoReverseMatch:
        return reverse("admin:index")


def home(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: a redirect to ``front_page_url`` (temporary, as the target may change)."""
    return HttpResponseRedirect(front_page_url())
