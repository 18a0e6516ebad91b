"""Models of the integrations app: the Odoo HR connection.

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
