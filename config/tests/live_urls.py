"""The site's URLs plus a page named ``live``, as a server with the live page has them."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def live_page(request: HttpRequest) -> HttpResponse:
    """Stands in for the live page: only its URL matters here."""
    return HttpResponse("live")


urlpatterns = [path("live/", live_page, name="live"), *site_urlpatterns]
