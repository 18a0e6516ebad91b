"""People, their face samples, erasure, identify/verify and re-embedding jobs."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from accounts.api.viewsets import AuditedModelViewSet, ReadOnlyViewSet, RoleScopedMixin
from accounts.private_images import private_image_response
from accounts.roles import ALL_ROLES, PEOPLE_MANAGERS, RoleRules
from config.api.filters import ApiFilterSet, StrictBooleanFilter
from config.api.schema import error_responses
from faces import services
from faces.api.serializers import (
    DepartmentSerializer,
    FaceSampleSerializer,
    FaceUploadSerializer,
    IdentifyRequestSerializer,
    IdentifyResponseSerializer,
    PersonRefSerializer,
    PersonSerializer,
    ReembedJobSerializer,
    VerifyRequestSerializer,
    VerifyResponseSerializer,
)
from faces.engine import get_engine
from faces.enrolment import enrol
from faces.erasure import erase_person
from faces.images import decode_or_reject, read_upload
from faces.models import Department, FaceEmbedding, FaceSample, Person, ReembedJob
from faces.reembedding import start_reembed

PEOPLE_RULES = RoleRules(
    read=ALL_ROLES,
    write=PEOPLE_MANAGERS,
    actions={
        "faces": PEOPLE_MANAGERS,
        "delete_face": PEOPLE_MANAGERS,
        "face_image": PEOPLE_MANAGERS,
        "erase": PEOPLE_MANAGERS,
    },
)


class DepartmentViewSet(AuditedModelViewSet):
    """Departments people belong to."""

    roles = RoleRules(read=ALL_ROLES, write=PEOPLE_MANAGERS)
    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]


class PersonFilter(ApiFilterSet):
    has_consent = StrictBooleanFilter(field_name="consent_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Person
        fields = ["department", "active", "has_consent"]


class PersonViewSet(AuditedModelViewSet):
    """Employees the cameras recognise, with their face samples."""

    roles = PEOPLE_RULES
    queryset = Person.objects.select_related("department", "consent_by").annotate(
        face_count=Count("faces")
    )
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    search_fields = ["employee_code", "full_name", "email", "job_title"]
    ordering_fields = ["full_name", "employee_code", "created_at", "updated_at", "id"]
    ordering = ["full_name", "id"]

    def _samples(self, person: Person):
        return person.faces.select_related("created_by").prefetch_related(
            Prefetch(
                "embeddings", queryset=FaceEmbedding.objects.only("id", "sample_id", "model_key")
            )
        )

    @extend_schema(
        methods=["GET"],
        summary="List a person's face samples",
        responses={200: FaceSampleSerializer(many=True)},
        request=None,
    )
    @extend_schema(
        methods=["POST"],
        summary="Enrol a face photo of a person",
        request={"multipart/form-data": FaceUploadSerializer},
        responses={201: FaceSampleSerializer, **error_responses(409, 413, 415, 422)},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def faces(self, request, pk=None):
        person = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(self._samples(person))
            return self.get_paginated_response(
                FaceSampleSerializer(page, many=True, context={"request": request}).data
            )
        upload = FaceUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image = decode_or_reject(read_upload(upload.validated_data["image"]))
        sample = enrol(
            person,
            image,
            context=audit.AuditContext.from_request(request),
            face_index=upload.validated_data.get("face_index"),
        )
        return Response(
            FaceSampleSerializer(sample, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Delete a face sample", responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"faces/(?P<face_id>[0-9]+)")
    def delete_face(self, request, pk=None, face_id=None):
        person = self.get_object()
        self.perform_destroy(get_object_or_404(FaceSample, pk=face_id, person=person))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="A face sample's photo", responses={(200, "image/jpeg"): bytes})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"faces/(?P<face_id>[0-9]+)/image",
        url_name="face-image",
    )
    def face_image(self, request, pk=None, face_id=None):
        sample = get_object_or_404(FaceSample, pk=face_id, person_id=self.get_object().pk)
        return private_image_response(
            sample.image,
            context=audit.AuditContext.from_request(request),
            model=FaceSample,
            image="photo",
            object_id=sample.pk,
        )

    @extend_schema(summary="Erase a person's biometric data", request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        erase_person(self.get_object(), audit.AuditContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _person_refs(ids: set[int]) -> dict[int, dict]:
    people = Person.objects.filter(pk__in=ids).only("id", "employee_code", "full_name")
    return {p.pk: PersonRefSerializer(p).data for p in people}


class IdentifyView(RoleScopedMixin, APIView):
    """Every face in the photo with its top candidates; two faces never get one person."""

    roles = RoleRules(read=ALL_ROLES, write=ALL_ROLES)
    parser_classes = [MultiPartParser]
    throttle_scope = "identify"  # THROTTLE_IDENTIFY_RATE: each call runs the face model

    @extend_schema(
        summary="Identify every face in a photo",
        request={"multipart/form-data": IdentifyRequestSerializer},
        responses={200: IdentifyResponseSerializer, **error_responses(413, 415, 422)},
        tags=["faces"],
    )
    def post(self, request):
        params = IdentifyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        image = decode_or_reject(read_upload(params.validated_data["image"]))
        results = services.identify(image, k=params.validated_data["k"])
        ids = {c.person_id for r in results for c in r.candidates}
        refs = _person_refs(ids)
        faces = [
            {
                "bbox": [round(v, 2) for v in r.face.bbox],
                "landmarks": r.face.as_dict()["landmarks"],
                "detection_score": round(r.face.score, 4),
                "quality": r.quality.as_dict(),
                "status": r.status,
                "person": refs.get(r.person_id) if r.person_id is not None else None,
                "score": round(r.score, 4),
                "margin": round(r.margin, 4),
                "candidates": [
                    {"person": refs[c.person_id], "score": round(c.score, 4)}
                    for c in r.candidates
                    if c.person_id in refs
                ],
            }
            for r in results
        ]
        return Response({"faces": faces, "model_key": get_engine().model_key})


class VerifyView(RoleScopedMixin, APIView):
    """Is the face in the photo this person? (1:1)"""

    roles = RoleRules(read=ALL_ROLES, write=ALL_ROLES)
    parser_classes = [MultiPartParser]
    throttle_scope = "verify"  # THROTTLE_VERIFY_RATE: each call runs the face model

    @extend_schema(
        summary="Verify that a photo shows a given person",
        request={"multipart/form-data": VerifyRequestSerializer},
        responses={200: VerifyResponseSerializer, **error_responses(409, 413, 415, 422)},
        tags=["faces"],
    )
    def post(self, request):
        params = VerifyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        person = params.validated_data["person"]
        image = decode_or_reject(read_upload(params.validated_data["image"]))
        result = services.verify(image, person, params.validated_data.get("face_index"))
        return Response(
            {
                "person": PersonRefSerializer(person).data,
                "score": round(result.score, 4),
                "match": result.match,
                "threshold": result.threshold,
                "bbox": result.bbox,
                "face_count": result.face_count,
            }
        )


class ReembedJobViewSet(ReadOnlyViewSet):
    """Re-embedding jobs with progress; POST starts one for the current model."""

    roles = RoleRules(read=PEOPLE_MANAGERS, write=PEOPLE_MANAGERS)
    queryset = ReembedJob.objects.select_related("requested_by")
    serializer_class = ReembedJobSerializer
    ordering = ["-created_at", "-id"]

    @extend_schema(
        summary="Start re-embedding every face for the current model",
        request=None,
        responses={202: ReembedJobSerializer},
    )
    def create(self, request):
        job = start_reembed(audit.AuditContext.from_request(request))
        return Response(ReembedJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
