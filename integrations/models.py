"""Models of the integrations app: the Odoo HR connection, the employee links, the
attendance outbox, the sync/push job rows and the lease that keeps runs apart.

The API key is encrypted at rest (``EncryptedTextField``, like camera passwords), never
returned by the API, and masked in audit rows because its name says it is a secret.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.crypto import EncryptedTextField
from integrations.odoo.addresses import check_base_url_shape
from integrations.odoo.faults import OdooConfigError


class OdooProtocol(models.TextChoices):
    """How Presence talks to Odoo: XML-RPC and JSON-RPC up to Odoo 21, JSON-2 from 19."""

    XMLRPC = "xmlrpc", "XML-RPC"
    JSONRPC = "jsonrpc", "JSON-RPC"
    JSON2 = "json2", "JSON-2 (Odoo 19+)"


def validate_base_url(value: str) -> None:
    """Model-level check of the base URL's shape: http(s), a host, no credentials."""
    from django.core.exceptions import ValidationError

    if not value:
        return
    try:
        check_base_url_shape(value)
    except OdooConfigError as exc:
        # A rule the schema cannot express: the API answers 422 (config.api.errors).
        raise ValidationError(exc.message, code="unprocessable") from exc


class OdooConnection(models.Model):
    """The one Odoo this installation talks to (several companies are a later step)."""

    SINGLETON_ID = 1
    audit_secret_fields = ("api_key",)

    base_url = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_base_url],
        help_text="http:// or https:// address of Odoo, e.g. https://erp.example.com",
    )
    database = models.CharField(max_length=200, blank=True)
    login = models.CharField(max_length=200, blank=True)
    api_key = EncryptedTextField(blank=True, default="")
    protocol = models.CharField(
        max_length=10, choices=OdooProtocol.choices, default=OdooProtocol.XMLRPC
    )
    timeout_seconds = models.FloatField(
        default=10.0, validators=[MinValueValidator(1.0), MaxValueValidator(120.0)]
    )
    company_id = models.PositiveIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Odoo connection"
        verbose_name_plural = "Odoo connection"

    def __str__(self) -> str:
        return f"Odoo at {self.base_url}" if self.base_url else "Odoo (not configured)"

    def save(self, *args: object, **kwargs: object) -> None:
        """There is one connection: every save is of row 1."""
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> OdooConnection:
        """The connection row, created empty (disabled) on first use."""
        connection, _created = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return connection

    def redact(self, text: str) -> str:
        """``text`` without the API key: a second line of defence for anything shown."""
        if text and self.api_key:
            return text.replace(self.api_key, "********")
        return text


class OdooEmployeeLink(models.Model):
    """Which Odoo employee a Person is, and what the last sync saw of it.

    ``last_write_date`` lets the sync skip re-reading a photo that did not change, and
    ``photo_hash`` tells whether a changed record brought a new ``image_1920``.
    """

    odoo_id = models.PositiveIntegerField(unique=True)
    person = models.OneToOneField(
        "faces.Person", on_delete=models.CASCADE, related_name="odoo_link"
    )
    last_write_date = models.DateTimeField(null=True, blank=True)
    photo_hash = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["odoo_id"]

    def __str__(self) -> str:
        return f"Odoo employee {self.odoo_id} -> person #{self.person_id}"


class SyncJobKind(models.TextChoices):
    """The two kinds of run; two runs of one kind never overlap (``integrations.locks``)."""

    PULL_EMPLOYEES = "pull_employees", "Employee sync (pull)"
    PUSH_ATTENDANCE = "push_attendance", "Attendance push (outbox)"


class SyncJobState(models.TextChoices):
    """Where a run stands: running until it ends, then succeeded or failed."""

    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class OdooSyncJob(models.Model):
    """One sync or push run: when, how many of what, and what went wrong."""

    kind = models.CharField(max_length=20, choices=SyncJobKind.choices)
    state = models.CharField(
        max_length=10, choices=SyncJobState.choices, default=SyncJobState.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    high_water = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Pull: the newest write_date seen; the next run starts a little before.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.state})"


class OdooRunLock(models.Model):
    """A lease per run kind, so that two runs of one kind never overlap.

    A row in the database rather than a Redis key: it works the same in the embedded run
    (SQLite, no Redis) and outlives a cache flush; the expiry frees it after a killed worker.
    """

    kind = models.CharField(max_length=20, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} lock ({self.holder or 'free'})"


class OutboxKind(models.TextChoices):
    """What a row asks of Odoo: an attendance's start, its end, or undoing either."""

    CHECK_IN = "check_in", "Check-in"
    CHECK_OUT = "check_out", "Check-out"
    VOID = "void", "Void"


class OutboxState(models.TextChoices):
    """``pending`` waits or retries; ``failed`` is parked for an admin; the others are done."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


UNFINISHED_STATES = (OutboxState.PENDING, OutboxState.FAILED)


class OdooOutbox(models.Model):
    """One attendance change to push to Odoo, written in the event's own transaction.

    Rows of one person are pushed in ``id`` order; a row waits while an earlier row of the
    same person is pending or failed. ``outcome`` says what the push did (README, "Odoo HR").
    """

    event = models.ForeignKey(
        "attendance.AttendanceEvent", on_delete=models.PROTECT, related_name="odoo_outbox"
    )
    person = models.ForeignKey("faces.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=OutboxKind.choices)
    at = models.DateTimeField(help_text="The event's time (for a void: the voided event's).")
    state = models.CharField(
        max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    odoo_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The hr.attendance this row created or changed."
    )
    outcome = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "Odoo outbox row"
        indexes = [
            models.Index(fields=["state", "person", "id"]),
            models.Index(fields=["event", "kind"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} of person #{self.person_id} ({self.state})"
