"""Admin (back-office) pages of the integrations app: the Odoo connection with a test,
the sync and push runs, the employee links, and the outbox with retry and skip.

The API key is a password input that is never filled in (``render_value=False``): the
page shows whether a key is stored, an empty field keeps it, and the audit row masks it.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts import audit
from accounts.admin_audit import AuditedModelAdmin
from accounts.admin_roles import has_capability
from accounts.roles import AdminCapability
from integrations.models import (
    OdooConnection,
    OdooEmployeeLink,
    OdooOutbox,
    OdooSyncJob,
    OutboxState,
    SyncJobKind,
)
from integrations.odoo.faults import OdooConfigError
from integrations.receivers import request_push
from integrations.services import check_address, probe_connection
from integrations.sync import OutboxRowNotParked, retry_outbox_row, skip_outbox_row


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


#: Runs and parked outbox rows shown on the connection's page.
RECENT_JOBS = 10
PARKED_ROWS = 20


def connection_status(connection: OdooConnection) -> list[tuple[str, str]]:
    """(what, state) lines for the connection's page, from what is stored: whether it is
    set up and on, how the last run of each kind went, and what waits in the outbox. (The
    "Test connection" action asks Odoo itself.)"""
    configured = all(
        (connection.base_url, connection.database, connection.login, connection.api_key)
    )
    lines = [
        ("Set up", "yes" if configured else "no: URL, database, login and API key are needed"),
        ("Enabled", "yes" if connection.enabled else "no: nothing is pulled or pushed"),
    ]
    for kind in SyncJobKind:
        job = OdooSyncJob.objects.filter(kind=kind).order_by("-started_at").first()
        if job is None:
            lines.append((kind.label, "never run"))
            continue
        error = f": {connection.redact(job.last_error)}" if job.last_error else ""
        lines.append(
            (kind.label, f"{job.get_state_display()} at {job.started_at:%Y-%m-%d %H:%M}{error}")
        )
    pending = OdooOutbox.objects.filter(state=OutboxState.PENDING).count()
    parked = OdooOutbox.objects.filter(state=OutboxState.FAILED).count()
    lines.append(("Outbox", f"{pending} waiting to be sent, {parked} parked after failing"))
    return lines


@admin.register(OdooConnection)
class OdooConnectionAdmin(AuditedModelAdmin):
    """The one Odoo connection and its "Test connection" action; its page also shows the
    connection's status, the recent runs and the parked outbox rows, with retry and skip
    for roles that may manage the outbox."""

    form = OdooConnectionForm
    change_form_template = "admin/integrations/odooconnection/change_form.html"
    list_display = ("__str__", "database", "login", "protocol", "enabled", "has_api_key")
    actions = ["test_connection"]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """The form, with the status, recent runs and parked rows beneath it."""
        connection = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if connection is not None:
            extra.update(
                odoo_status=connection_status(connection),
                recent_jobs=[
                    (job, connection.redact(job.last_error))
                    for job in OdooSyncJob.objects.order_by("-started_at")[:RECENT_JOBS]
                ],
                parked_rows=OdooOutbox.objects.filter(state=OutboxState.FAILED)
                .select_related("person")
                .order_by("at")[:PARKED_ROWS],
                can_manage_outbox=has_capability(request, AdminCapability.MANAGE_ODOO_OUTBOX),
                outbox_actions=(("retry_rows", "Retry"), ("skip_rows", "Skip")),
            )
        return super().change_view(request, object_id, form_url, extra)

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


@admin.register(OdooSyncJob)
class OdooSyncJobAdmin(AuditedModelAdmin):
    """Sync and push runs, read-only: what each did and what went wrong."""

    list_display = ("kind", "state", "started_at", "finished_at", "counts", "last_error")
    list_filter = ("kind", "state")
    search_fields = ("last_error",)
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in OdooSyncJob._meta.fields]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Runs are started by the scheduler or the API, not typed in."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A run's record is history."""
        return False


@admin.register(OdooEmployeeLink)
class OdooEmployeeLinkAdmin(AuditedModelAdmin):
    """Which Odoo employee each person is (written by the employee sync)."""

    list_display = ("odoo_id", "person", "last_write_date", "synced_at")
    list_filter = (("person", admin.EmptyFieldListFilter),)
    search_fields = ("person__full_name", "person__employee_code", "=odoo_id")
    readonly_fields = ("odoo_id", "person", "last_write_date", "photo_hash", "synced_at")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Links come from the sync."""
        return False


@admin.register(OdooOutbox)
class OdooOutboxAdmin(AuditedModelAdmin):
    """The attendance outbox, with "Retry" and "Skip" for parked (failed) rows."""

    list_display = ("id", "person", "kind", "at", "state", "attempts", "outcome", "last_error")
    list_filter = ("state", "kind", "outcome")
    search_fields = ("person__full_name", "person__employee_code", "last_error")
    list_select_related = ("person",)
    date_hierarchy = "at"
    readonly_fields = [field.name for field in OdooOutbox._meta.fields]
    actions = ["retry_rows", "skip_rows"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows come from attendance events only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Rows change through the push and the two actions only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A row is the record of what was sent: never deleted."""
        return False

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[OdooOutbox],
        change: Callable[[OdooOutbox, audit.AuditContext], OdooOutbox],
    ) -> None:
        context = audit.AuditContext.from_request(request, source=audit.AuditSource.ADMIN)
        done = 0
        for row in queryset.order_by("id"):
            try:
                with transaction.atomic():
                    change(row, context)
            except OutboxRowNotParked as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                done += 1
        if done:
            transaction.on_commit(request_push)
            self.message_user(request, f"{done} row(s) changed.", messages.SUCCESS)

    @admin.action(
        description="Retry the selected failed rows",
        permissions=[AdminCapability.MANAGE_ODOO_OUTBOX],
    )
    def retry_rows(self, request: HttpRequest, queryset: QuerySet[OdooOutbox]) -> None:
        """Back in the queue now, with a fresh 24 hours of retries."""
        self._apply(request, queryset, retry_outbox_row)

    @admin.action(
        description="Skip the selected failed rows",
        permissions=[AdminCapability.MANAGE_ODOO_OUTBOX],
    )
    def skip_rows(self, request: HttpRequest, queryset: QuerySet[OdooOutbox]) -> None:
        """Give up on them so the person's later rows go on."""
        self._apply(request, queryset, skip_outbox_row)
