"""Serializers for people, departments, face samples and recognition results."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from config.api.serializers import ApiModelSerializer, ApiSerializer
from faces.models import Department, FaceSample, Person, ReembedJob


class PersonRefSerializer(ApiModelSerializer):
    """How other objects refer to a person (api.md): id, employee code and name."""

    class Meta:
        model = Person
        fields = ["id", "employee_code", "full_name"]
        read_only_fields = fields


class DepartmentSerializer(ApiModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class PersonSerializer(ApiModelSerializer):
    """``has_consent: true`` records consent now, by the caller; ``has_consent: false``
    withdraws it and erases the person's biometric data in the same request. The field
    is written and read under one name."""

    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    department_name = serializers.SerializerMethodField()
    has_consent = serializers.BooleanField(required=False)
    consent_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
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
            "has_consent",
            "consent_at",
            "consent_by",
            "face_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["consent_at", "created_at", "updated_at"]

    def get_department_name(self, person: Person) -> str | None:
        """The department's name beside its id, null when the person has none."""
        return person.department.name if person.department_id else None

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
        consent = validated_data.pop("has_consent", None)
        person = Person(**validated_data)
        self._apply_consent(person, consent)
        person.save()
        return person

    def update(self, person: Person, validated_data: dict) -> Person:
        consent = validated_data.pop("has_consent", None)
        self._apply_consent(person, consent)
        for name, value in validated_data.items():
            setattr(person, name, value)
        person.save()
        return person


class FaceSampleSerializer(ApiModelSerializer):
    image_url = serializers.SerializerMethodField()
    model_keys = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

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


class FaceUploadSerializer(ApiSerializer):
    image = serializers.FileField()
    face_index = serializers.IntegerField(required=False, min_value=0)


class IdentifyRequestSerializer(ApiSerializer):
    image = serializers.FileField()
    k = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)


class VerifyRequestSerializer(ApiSerializer):
    image = serializers.FileField()
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    face_index = serializers.IntegerField(required=False, min_value=0)


class CandidateSerializer(ApiSerializer):
    person = PersonRefSerializer()
    score = serializers.FloatField()


class IdentifiedFaceSerializer(ApiSerializer):
    bbox = serializers.ListField(child=serializers.FloatField())
    landmarks = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    detection_score = serializers.FloatField()
    quality = serializers.DictField(child=serializers.FloatField())
    status = serializers.ChoiceField(choices=["recognized", "uncertain", "unknown"])
    person = PersonRefSerializer(allow_null=True)
    score = serializers.FloatField()
    margin = serializers.FloatField()
    candidates = CandidateSerializer(many=True)


class IdentifyResponseSerializer(ApiSerializer):
    faces = IdentifiedFaceSerializer(many=True)
    model_key = serializers.CharField()


class VerifyResponseSerializer(ApiSerializer):
    person = PersonRefSerializer()
    score = serializers.FloatField()
    match = serializers.BooleanField()
    threshold = serializers.FloatField()
    bbox = serializers.ListField(child=serializers.FloatField())
    face_count = serializers.IntegerField()


class ReembedJobSerializer(ApiModelSerializer):
    progress = serializers.FloatField(read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

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
