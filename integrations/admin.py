"""Admin (back-office) pages of the integrations app: the Odoo connection, with a test.

The API key is a password input that is never filled in (``render_value=False``): the
page shows whether a key is stored, an empty field keeps it, and the audit row masks it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_audit import AuditedModelAdmin
from accounts.roles import AdminCapability
from integrations.models import OdooConnection
from integrations.odoo.faults import OdooConfigError
from integrations.services import check_address, probe_connection


class OdooConnectionForm(forms.ModelForm):
    """The connection's fields; the key is write-only and the URL passes the guard."""

    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the stored key.",
    )

    class Meta:
        model = OdooConnection
        fields = [
            "base_url",
            "database",
            "login",
            "api_key",
            "protocol",
            "timeout_seconds",
            "company_id",
            "enabled",
        ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.initial["api_key"] = ""
        self._stored_key = self.instance.api_key if self.instance.pk else ""

    def clean_base_url(self) -> str:
        """http(s) only, and not at a blocked address."""
        value = (self.cleaned_data.get("base_url") or "").strip()
        if value:
            try:
                check_address(value, require_dns=False)
            except OdooConfigError as exc:
                raise forms.ValidationError(exc.message) from exc
        return value

    def clean_api_key(self) -> str:
        """An empty field keeps the stored key."""
        return self.cleaned_data.get("api_key") or self._stored_key


@admin.register(OdooConnection)
class OdooConnectionAdmin(AuditedModelAdmin):
    """The one Odoo connection and its "Test connection" action."""

    form = OdooConnectionForm
    list_display = ("__str__", "database", "login", "protocol", "enabled", "has_api_key")
    actions = ["test_connection"]

    @admin.display(boolean=True, description="API key set")
    def has_api_key(self, connection: OdooConnection) -> bool:
        """Whether a key is stored; the key itself is never shown."""
        return bool(connection.api_key)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """One row only: adding is possible while there is none."""
        return not OdooConnection.objects.exists() and super().has_add_permission(request)

    @admin.action(
        description="Test connection (version and login)",
        permissions=[AdminCapability.TEST_ODOO_CONNECTION],
    )
    def test_connection(self, request: HttpRequest, queryset: QuerySet[OdooConnection]) -> None:
        """Calls Odoo's version and authenticate and reports the outcome in plain words."""
        for connection in queryset[:1]:
            result = probe_connection(connection)
            if result.ok:
                text = f"Odoo {result.server_version}: signed in as user {result.uid}."
                self.message_user(request, text, messages.SUCCESS)
            else:
                self.message_user(request, f"{result.message} ({result.error})", messages.ERROR)
