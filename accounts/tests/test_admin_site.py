"""The back-office: branded, roles decide who gets in and what they may change."""

import pytest
from django.test import Client

from conftest import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    browser = Client()
    browser.post("/admin/login/", {"username": user.email, "password": PERSONA_PASSWORD})
    return browser


def test_admin_index_is_branded_and_hides_groups(admin_user):
    page = browser_for(admin_user).get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Presence back-office" in html
    assert "/admin/auth/group/" not in html
    assert "/admin/accounts/user/" in html


def test_user_list_filters_by_role(admin_user, viewer):
    html = browser_for(admin_user).get("/admin/accounts/user/?role__exact=viewer").content
    assert viewer.email.encode() in html
    assert admin_user.email.encode() not in html.split(b"<tbody>")[1]


def test_viewer_cannot_enter_the_back_office(viewer):
    response = browser_for(viewer).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_roles_see_only_their_apps(hr_manager, operator):
    hr = browser_for(hr_manager)
    assert hr.get("/admin/").status_code == 200
    assert hr.get("/admin/accounts/user/").status_code == 403
    assert hr.get("/admin/accounts/auditlog/").status_code == 403
    assert browser_for(operator).get("/admin/django_celery_beat/periodictask/").status_code == 403
