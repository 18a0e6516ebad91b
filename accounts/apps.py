"""The accounts app: users, roles, authentication and the audit log."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users (email login), roles, JWT auth, permissions, the audit log and throttling."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Signing out of the admin also ends the session of the pages it signed in."""
        from django.contrib.auth.signals import user_logged_out

        from accounts.browser_sessions import end_on_logout

        user_logged_out.connect(end_on_logout, dispatch_uid="browser-session-logout")
