"""Serializers for people, departments, face samples and recognition results."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from faces.models import Department, FaceSample, Person, ReembedJob


class PersonRefSerializer(serializers.ModelSerializer):
    """How other objects refer to a person (api.md): id, employee code and name."""

    class Meta:
        model = Person
        fields = ["id", "employee_code", "full_name"]
        read_only_fields = fields


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class PersonSerializer(serializers.ModelSerializer):
    """``consent: true`` records consent now, by the caller; ``consent: false`` withdraws
    it and erases the person's biometric data in the same request."""

    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    department_name = serializers.CharField(source="department.name", read_only=True, default=None)
    consent = serializers.BooleanField(write_only=True, required=False)
    has_consent = serializers.BooleanField(read_only=True)
    consent_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    face_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Person
        fields = [
            "id",
            "employee_code",
            "full_name",
            "email",
            "department",
            "department_name",
            "job_title",
            "active",
            "consent",
            "has_consent",
            "consent_at",
            "consent_by",
            "face_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["consent_at", "created_at", "updated_at"]

    def validate_employee_code(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def _apply_consent(self, person: Person, consent: bool | None) -> None:
        if consent is None or consent == person.has_consent:
            return
        if consent:
            person.consent_at = timezone.now()
            person.consent_by = self.context["request"].user
        else:
            from accounts.audit import AuditContext
            from faces.erasure import erase_person

            erase_person(person, AuditContext.from_request(self.context["request"]))
            person.refresh_from_db()

    def create(self, validated_data: dict) -> Person:
        consent = validated_data.pop("consent", None)
        person = Person(**validated_data)
        self._apply_consent(person, consent)
        person.save()
        return person

    def update(self, person: Person, validated_data: dict) -> Person:
        consent = validated_data.pop("consent", None)
        self._apply_consent(person, consent)
        for name, value in validated_data.items():
            setattr(person, name, value)
        person.save()
        return person


class FaceSampleSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    model_keys = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = FaceSample
        fields = [
            "id",
            "person",
            "bbox",
            "landmarks",
            "quality",
            "source",
            "model_keys",
            "image_url",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_image_url(self, sample: FaceSample) -> str:
        return reverse("person-face-image", args=[sample.person_id, sample.pk])

    def get_model_keys(self, sample: FaceSample) -> list[str]:
        return sorted(e.model_key for e in sample.embeddings.all())


class FaceUploadSerializer(serializers.Serializer):
    image = serializers.FileField()
    face_index = serializers.IntegerField(required=False, min_value=0, allow_null=True)


class IdentifyRequestSerializer(serializers.Serializer):
    image = serializers.FileField()
    k = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)


class VerifyRequestSerializer(serializers.Serializer):
    image = serializers.FileField()
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    face_index = serializers.IntegerField(required=False, min_value=0, allow_null=True)


class CandidateSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    score = serializers.FloatField()


class IdentifiedFaceSerializer(serializers.Serializer):
    bbox = serializers.ListField(child=serializers.FloatField())
    landmarks = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    detection_score = serializers.FloatField()
    quality = serializers.DictField(child=serializers.FloatField())
    status = serializers.ChoiceField(choices=["recognized", "uncertain", "unknown"])
    person = PersonRefSerializer(allow_null=True)
    score = serializers.FloatField()
    margin = serializers.FloatField()
    candidates = CandidateSerializer(many=True)


class IdentifyResponseSerializer(serializers.Serializer):
    faces = IdentifiedFaceSerializer(many=True)
    model_key = serializers.CharField()


class VerifyResponseSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    score = serializers.FloatField()
    match = serializers.BooleanField()
    threshold = serializers.FloatField()
    bbox = serializers.ListField(child=serializers.FloatField())
    face_count = serializers.IntegerField()


class ReembedJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = ReembedJob
        fields = [
            "id",
            "model_key",
            "status",
            "total",
            "done",
            "failed",
            "progress",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
