"""The accounts app: users, roles, authentication and the audit log."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users (email login), roles, JWT auth, permissions, the audit log and throttling."""

    name = "accounts"
    verbose_name = "Accounts"
