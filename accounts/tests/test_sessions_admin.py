"""Sessions in the back-office: read-only under the user, signed out by an action."""

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import sessions
from accounts.models import AuditLog, AuditSource, UserSession

pytestmark = pytest.mark.django_db


def start(user, agent: str = "Firefox on the front desk") -> UserSession:
    refresh = sessions.start(user, RequestFactory().post("/", HTTP_USER_AGENT=agent))
    return UserSession.objects.get(key=refresh[sessions.SESSION_CLAIM])


def browser_for(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_user_page_lists_live_sessions_read_only(admin_user, viewer):
    live = start(viewer, "Live browser")
    ended = start(viewer, "Ended browser")
    UserSession.objects.filter(pk=ended.pk).update(revoked_at=timezone.now())
    page = browser_for(admin_user).get(f"/admin/accounts/user/{viewer.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Live browser" in html
    assert "Ended browser" not in html
    assert live.refresh_jti not in html
    link = f"/admin/accounts/usersession/?user__id__exact={viewer.pk}"
    assert link in html
    listing = browser_for(admin_user).get(link)
    assert listing.status_code == 200
    assert "Live browser" in listing.content.decode()
    assert "Ended browser" in listing.content.decode()
    assert browser_for(admin_user).get("/admin/accounts/user/add/").status_code == 200


def test_sign_out_action_ends_the_session_and_audits_it(admin_user, viewer):
    session = start(viewer)
    browser = browser_for(admin_user)
    response = browser.post(
        "/admin/accounts/usersession/",
        {"action": "sign_out", "_selected_action": [session.pk]},
        follow=True,
    )
    assert "Signed out 1 session(s)." in response.content.decode()
    session.refresh_from_db()
    assert session.revoked_at is not None
    row = AuditLog.objects.get(object_type="accounts.usersession", object_id=str(session.pk))
    assert row.source == AuditSource.ADMIN
    assert row.actor == admin_user


@pytest.mark.parametrize("role", ["hr_manager", "operator"])
def test_other_staff_do_not_see_sessions(role, personas):
    browser = browser_for(personas[role])
    assert browser.get("/admin/accounts/usersession/").status_code == 403
