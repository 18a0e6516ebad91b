"""Root URLs: the front door (``/``), the admin, the live page, the API under /api/v1/ (a
router per app), schema and docs, and the Prometheus metrics."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.admin_login import admin_login
from accounts.admin_password import own_password_change
from accounts.browser_views import browser_token
from config.api import health
from config.api.views import api_not_found
from config.home import home
from config.metrics_http import metrics_view
from detections.live_page import live_page

api_v1 = [
    path("health/live", health.LiveView.as_view(), name="health-live"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.api.urls")),
    path("", include("faces.api.urls")),
    path("", include("cameras.api.urls")),
    path("", include("detections.api.urls")),
    path("", include("attendance.api.urls")),
    path("", include("integrations.api.urls")),
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("", home, name="home"),
    # Before the admin's own URLs: the same page, answering 429 when throttled.
    path("admin/login/", admin_login, name="admin-login"),
    # Before the admin's own URLs too: a counted check, and every token ended after.
    path(
        "admin/password_change/",
        admin.site.admin_view(own_password_change),
        name="admin-password-change",
    ),
    path("admin/", admin.site.urls),
    path("live/", live_page, name="live"),
    path("live/token", browser_token, name="live-token"),
    path("api/v1/", include(api_v1)),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "config.api.errors.handler400"
handler403 = "config.api.errors.handler403"
handler404 = "config.api.errors.handler404"
handler500 = "config.api.errors.handler500"
