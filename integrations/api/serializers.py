"""Serializers of the Odoo connection: the API key is write-only, ``has_api_key`` tells
whether one is set, and the base URL passes the address guard when saved."""

from __future__ import annotations

from rest_framework import serializers

from config.api.errors import RULE_CODE
from config.api.serializers import ApiModelSerializer, ApiSerializer
from faces.api.serializers import PersonRefSerializer
from integrations.models import OdooConnection, OdooOutbox, OdooSyncJob
from integrations.odoo.faults import OdooConfigError
from integrations.services import check_address


class OdooConnectionSerializer(ApiModelSerializer):
    """``PUT`` replaces the settings; an omitted or empty ``api_key`` keeps the stored
    one, so a form that never shows the key can be saved as it is."""

    api_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=True,
        help_text="Write-only: accepted, never returned. Empty keeps the stored key.",
    )
    has_api_key = serializers.SerializerMethodField()
    timeout_seconds = serializers.FloatField(min_value=1.0, max_value=120.0, required=False)

    class Meta:
        model = OdooConnection
        fields = [
            "base_url",
            "database",
            "login",
            "api_key",
            "has_api_key",
            "protocol",
            "timeout_seconds",
            "company_id",
            "enabled",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def get_has_api_key(self, connection: OdooConnection) -> bool:
        """Whether a key is stored (the key itself is never shown)."""
        return bool(connection.api_key)

    def validate_base_url(self, value: str) -> str:
        """http(s) only, and not at a blocked address (loopback, link-local metadata)."""
        value = value.strip()
        if not value:
            return value
        try:
            check_address(value, require_dns=False)
        except OdooConfigError as exc:
            raise serializers.ValidationError(exc.message, code=RULE_CODE) from exc
        return value

    def validate(self, attrs: dict) -> dict:
        """An empty key keeps the stored one; enabling needs a URL, a database, a login
        and a key, or the first sync would fail for a reason known now."""
        if not attrs.get("api_key"):
            attrs.pop("api_key", None)
        instance = self.instance

        def current(name: str) -> object:
            if name in attrs:
                return attrs[name]
            return getattr(instance, name, None) if instance else None

        if current("enabled"):
            missing = [
                name for name in ("base_url", "database", "login", "api_key") if not current(name)
            ]
            if missing:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Required to enable.", code=RULE_CODE)]
                        for name in missing
                    }
                )
        return attrs


class ConnectionTestSerializer(ApiSerializer):
    """The answer of ``POST /integrations/odoo/test``: ok, or the failure in words."""

    ok = serializers.BooleanField()
    server_version = serializers.CharField(allow_null=True)
    uid = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="A machine-readable code.")
    message = serializers.CharField(allow_null=True)


class OdooSyncJobSerializer(ApiModelSerializer):
    """One sync or push run: counts by name, reported problems, the last error."""

    class Meta:
        model = OdooSyncJob
        fields = [
            "id",
            "kind",
            "state",
            "started_at",
            "finished_at",
            "counts",
            "errors",
            "last_error",
        ]
        read_only_fields = fields


class OdooOutboxSerializer(ApiModelSerializer):
    """One outbox row, with the person as a reference (api.md "An outbox row")."""

    person = PersonRefSerializer(read_only=True)

    class Meta:
        model = OdooOutbox
        fields = [
            "id",
            "event",
            "person",
            "kind",
            "at",
            "state",
            "attempts",
            "next_attempt_at",
            "odoo_id",
            "outcome",
            "last_error",
        ]
        read_only_fields = fields


class SyncStartedSerializer(ApiSerializer):
    """The answer of ``POST /integrations/odoo/sync``: the run was queued."""

    queued = serializers.BooleanField()
