"""Routes of the accounts API, mounted under /api/v1/."""

from django.urls import path

from accounts.api import auth_views
from accounts.api.session_views import OwnSessionViewSet, UserSessionViewSet
from accounts.api.views import AuditLogViewSet, UserViewSet
from config.api.routers import ApiRouter

router = ApiRouter()
router.register("users", UserViewSet, basename="user")
router.register("audit-logs", AuditLogViewSet, basename="auditlog")
router.register("auth/sessions", OwnSessionViewSet, basename="own-session")
router.register(r"users/(?P<user_id>[0-9]+)/sessions", UserSessionViewSet, basename="user-session")

urlpatterns = [
    path("auth/login", auth_views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", auth_views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", auth_views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", auth_views.MeView.as_view(), name="auth-me"),
    path("auth/password", auth_views.PasswordChangeView.as_view(), name="auth-password"),
    *router.urls,
]
