"""Camera serializers. Credentials are write-only and the URL is always shown masked."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from cameras.models import Camera, CameraStatus
from cameras.sources import SourceError, mask_url, split_credentials, validate_source_url


class CameraRefSerializer(serializers.ModelSerializer):
    """How other objects refer to a camera: id and name."""

    class Meta:
        model = Camera
        fields = ["id", "name"]
        read_only_fields = fields


def validate_roi(value):
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


class CameraSerializer(serializers.ModelSerializer):
    """``source_url`` may carry credentials on write; they are moved into the encrypted
    fields. Reads never show ``username`` or ``password``, and mask the URL."""

    username = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, trim_whitespace=False
    )
    has_credentials = serializers.SerializerMethodField()
    roi = serializers.JSONField(required=False, allow_null=True, validators=[validate_roi])

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "source_url",
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
            "status",
            "last_frame_at",
            "fps",
            "last_error",
            "reconnects_last_hour",
            "width",
            "height",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "last_frame_at",
            "fps",
            "last_error",
            "reconnects_last_hour",
            "width",
            "height",
            "created_at",
            "updated_at",
        ]

    def get_has_credentials(self, camera: Camera) -> bool:
        return bool(camera.username or camera.password)

    def to_representation(self, camera: Camera) -> dict:
        data = super().to_representation(camera)
        data["source_url"] = mask_url(camera.source_url)
        data["last_error"] = camera.redact(camera.last_error)
        return data

    def validate_source_url(self, value: str) -> str:
        try:
            return validate_source_url(value, file_root=settings.CAMERA_FILE_ROOT)
        except SourceError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs: dict) -> dict:
        if "source_url" in attrs:
            url, username, password = split_credentials(attrs["source_url"])
            attrs["source_url"] = url
            if username is not None and "username" not in attrs:
                attrs["username"] = username
            if password is not None and "password" not in attrs:
                attrs["password"] = password
        if "enabled" in attrs:
            enabled = attrs["enabled"]
            current = self.instance.status if self.instance else CameraStatus.OFFLINE
            if not enabled:
                attrs["status"] = CameraStatus.DISABLED
            elif current == CameraStatus.DISABLED:
                attrs["status"] = CameraStatus.OFFLINE
        elif self.instance is None:
            attrs["status"] = CameraStatus.OFFLINE
        return attrs


class ProbeResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    fps = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
