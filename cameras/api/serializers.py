"""Camera serializers. Credentials are write-only and the URL is always shown masked."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status

from cameras.addresses import AddressRefused
from cameras.models import Camera, Decoder, DecoderState
from cameras.services import (
    STATUS_FIELDS,
    clean_source,
    move_credentials,
    move_main_stream_credentials,
    status_after_edit,
)
from cameras.sources import SourceError, mask_url, with_credentials
from config.api.errors import RULE_CODE, ApiError
from config.api.serializers import ApiModelSerializer, ApiSerializer

ADDRESS_REFUSED = "camera_address_not_allowed"


def address_refused(exc: AddressRefused, field: str = "source_url") -> ApiError:
    """The 422 for a camera host outside ``CAMERA_ALLOWED_NETWORKS``: its own code and a
    message naming the setting, so the operator knows what to ask an administrator."""
    return ApiError(
        str(exc),
        code=ADDRESS_REFUSED,
        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        details={field: [str(exc)]},
    )


class CameraRefSerializer(ApiModelSerializer):
    """How other objects refer to a camera: id and name."""

    class Meta:
        model = Camera
        fields = ["id", "name"]
        read_only_fields = fields


def validate_roi(value: Any) -> list[list[float]] | None:
    """The ROI as float points, or None for the whole frame; a JSON field accepts any
    value, so the polygon's shape is checked here."""
    if value in (None, []):
        return None
    if not isinstance(value, list) or len(value) < 3 or len(value) > 64:
        raise serializers.ValidationError("A polygon of 3 to 64 [x, y] points is needed.")
    points = []
    for point in value:
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            or not all(0.0 <= v <= 1.0 for v in point)
        ):
            raise serializers.ValidationError("Each point is [x, y] with both between 0 and 1.")
        points.append([float(point[0]), float(point[1])])
    return points


@extend_schema_field(
    {
        "type": "array",
        "nullable": True,
        "minItems": 3,
        "maxItems": 64,
        "items": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "description": "A polygon of [x, y] points, as fractions of the frame; null: all.",
    }
)
class RoiField(serializers.JSONField):
    """The region of interest: the schema says its shape, ``validate_roi`` enforces it."""


class CameraSerializer(ApiModelSerializer):
    """``source_url`` may carry credentials on write; they are moved into the encrypted
    fields. Reads never show ``username`` or ``password``, and mask the URL."""

    username = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, trim_whitespace=False
    )
    has_credentials = serializers.SerializerMethodField()
    roi = RoiField(required=False, allow_null=True, validators=[validate_roi])
    # Empty ("") until a supervisor's first heartbeat, and again once the camera is
    # released or its heartbeat goes stale: the schema must allow it (found by fuzzing).
    decoder = serializers.ChoiceField(choices=Decoder.choices, allow_blank=True, read_only=True)
    decoder_state = serializers.ChoiceField(
        choices=DecoderState.choices, allow_blank=True, read_only=True
    )
    main_stream_state = serializers.ChoiceField(
        choices=DecoderState.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "source_url",
            "main_stream_url",
            "username",
            "password",
            "has_credentials",
            "location",
            "direction",
            "enabled",
            "analysis_fps",
            "detection_width",
            "min_face_size",
            "roi",
            *STATUS_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*STATUS_FIELDS, "created_at", "updated_at"]

    def get_has_credentials(self, camera: Camera) -> bool:
        """Whether a username or password is stored, as neither is ever shown."""
        has_password = getattr(camera, "has_password", None)
        if has_password is None:
            has_password = bool(camera.password)
        return bool(camera.username or has_password)

    def to_representation(self, camera: Camera) -> dict:
        """The stored error was redacted by its writer (the supervisor); masking URLs in
        it again costs nothing and needs no decryption of the password."""
        data = super().to_representation(camera)
        data["source_url"] = mask_url(camera.source_url)
        data["main_stream_url"] = camera.masked_main_stream_url
        for field in ("last_error", "decoder_error", "main_stream_error"):
            text = getattr(camera, field)
            data[field] = mask_url(text) if text else ""
        return data

    def validate_source_url(self, value: str) -> str:
        """The cleaned source; a host outside the allowed networks or a source that the
        source rules refuse is a 422, as the schema cannot express either rule."""
        try:
            return clean_source(value)
        except AddressRefused as exc:
            raise address_refused(exc) from exc
        except SourceError as exc:
            raise serializers.ValidationError(str(exc), code=RULE_CODE) from exc

    def validate_main_stream_url(self, value: str) -> str:
        """Empty (no main stream), or a source under the same rules as ``source_url``."""
        if not value or not value.strip():
            return ""
        try:
            return clean_source(value)
        except AddressRefused as exc:
            raise address_refused(exc, "main_stream_url") from exc
        except SourceError as exc:
            raise serializers.ValidationError(str(exc), code=RULE_CODE) from exc

    def validate(self, attrs: dict) -> dict:
        """Credentials leave the URLs, and only a network source may have any: a device or
        file with a username would save, then fail every connection and probe."""
        move_credentials(attrs, self.instance.query_secrets if self.instance else None)
        instance = self.instance
        try:
            move_main_stream_credentials(
                attrs,
                instance.main_stream_query_secrets if instance else None,
                (instance.username, instance.password) if instance else ("", ""),
            )
        except SourceError as exc:
            raise serializers.ValidationError(
                {"main_stream_url": [serializers.ErrorDetail(str(exc), code=RULE_CODE)]}
            ) from exc
        self._check_credentials_apply(attrs)
        if "enabled" in attrs or self.instance is None:
            current = self.instance.status if self.instance else None
            status = status_after_edit(attrs.get("enabled", True), current)
            if status is not None:
                attrs["status"] = status
        return attrs

    def _check_credentials_apply(self, attrs: dict) -> None:
        def current(name: str) -> str:
            if name in attrs:
                return attrs[name] or ""
            return (getattr(self.instance, name, "") or "") if self.instance else ""

        try:
            with_credentials(current("source_url"), current("username"), current("password"))
        except SourceError as exc:
            raise serializers.ValidationError(
                {"username": [serializers.ErrorDetail(str(exc), code=RULE_CODE)]}
            ) from exc


class ProbeResultSerializer(ApiSerializer):
    """What a probe of a camera's source found: ``ok`` with the frame size and rate, or
    the error with the credentials removed."""

    ok = serializers.BooleanField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    fps = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
