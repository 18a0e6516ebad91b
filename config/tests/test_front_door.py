"""First contact: ``/`` and the admin's "View site" lead somewhere useful, and ``make run``
says which addresses to open."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_root_leads_to_the_live_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/live/"
    assert client.get("/", follow=True).status_code == 200  # the admin's sign-in page


def test_view_site_is_the_front_door(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/").content.decode()
    assert '<a href="/">View site</a>' in page


def test_welcome_prints_the_addresses_to_open():
    out = StringIO()
    everywhere = "0.0.0.0"  # noqa: S104 - the address make run binds by default
    call_command("welcome", "--host", everywhere, "--port", "8123", stdout=out)
    text = out.getvalue()
    assert "http://localhost:8123/admin/" in text
    assert "http://localhost:8123/api/v1/docs/" in text
    assert "Live page" in text and "http://localhost:8123/live/" in text


def test_make_run_prints_the_addresses():
    from pathlib import Path

    from django.conf import settings

    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    run_recipe = makefile[makefile.index("\nrun:") : makefile.index("manage.py serve")]
    assert "manage.py welcome --host $(HOST) --port $(PORT)" in run_recipe
