"""Detection shapes: the contract's detection (api.md), unknown-face groups, assignment."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from cameras.api.serializers import CameraRefSerializer
from config.api.serializers import ApiModelSerializer, ApiSerializer
from detections.models import Detection, UnknownFace
from detections.payloads import detection_payload
from faces.api.serializers import PersonRefSerializer
from faces.models import Person


class DetectionCameraSerializer(ApiSerializer):
    """The camera of a detection: the id is null once the camera was deleted, and the
    name it had then stays."""

    id = serializers.IntegerField(allow_null=True, read_only=True)
    name = serializers.CharField(read_only=True)


class DetectionSerializer(ApiModelSerializer):
    """``{"id", "camera", "person", "status", "score", "captured_at", "bbox",
    "snapshot_url"}`` plus details; the snapshot URL needs the caller's token."""

    camera = DetectionCameraSerializer(read_only=True)
    person = PersonRefSerializer(read_only=True, allow_null=True)
    snapshot_url = serializers.CharField(read_only=True, allow_null=True)
    face_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Detection
        fields = [
            "id",
            "camera",
            "person",
            "status",
            "score",
            "margin",
            "votes",
            "captured_at",
            "last_seen_at",
            "bbox",
            "quality",
            "track_id",
            "unknown_face",
            "snapshot_url",
            "face_url",
            "assigned_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Detection) -> dict:
        """The fields above describe the shape for the schema; the values come from
        ``detections.payloads``, the one builder the live cache and the WebSocket use."""
        return detection_payload(instance)


class AssignSerializer(ApiSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    enroll = serializers.BooleanField(default=False)


class UnknownFaceSerializer(ApiModelSerializer):
    label = serializers.SerializerMethodField()
    last_camera = CameraRefSerializer(read_only=True, allow_null=True)
    resolved_person = PersonRefSerializer(read_only=True, allow_null=True)
    face_url = serializers.SerializerMethodField()

    class Meta:
        model = UnknownFace
        fields = [
            "id",
            "label",
            "seen_count",
            "first_seen",
            "last_seen",
            "last_camera",
            "resolved_person",
            "face_url",
        ]
        read_only_fields = fields

    def get_label(self, group: UnknownFace) -> str:
        return f"unknown #{group.pk}"

    def get_face_url(self, group: UnknownFace) -> str | None:
        latest = getattr(group, "latest_detection_id", None)
        return reverse("detection-face", args=[latest]) if latest else None


class LiveResponseSerializer(ApiSerializer):
    results = DetectionSerializer(many=True)
    server_time = serializers.DateTimeField()
