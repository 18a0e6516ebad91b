"""Back-office for people, departments, face samples (with thumbnails) and re-embedding."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts import audit
from accounts.admin_audit import AuditedModelAdmin, ReadOnlyModelAdmin, admin_context
from accounts.admin_images import PrivateImage, PrivateImageAdminMixin
from accounts.admin_panels import PanelsAdminMixin
from accounts.admin_roles import has_capability
from accounts.roles import AdminCapability
from faces import services
from faces.admin_photos import FacePhotoField
from faces.enrolment import check_photo, enrol
from faces.erasure import erase_person
from faces.exceptions import FacesError
from faces.models import Department, FaceSample, Person, ReembedJob
from faces.recognition import IdentifiedFace
from faces.reembedding import start_reembed


def thumbnail(sample: FaceSample, size: int = 96) -> str:
    """An ``<img>`` of the photo through the private image view, which checks the role and
    leaves a read trace; the storage URL itself is never put in a page."""
    if not sample.pk:
        return "-"
    url = reverse("admin:faces_facesample_image", args=[sample.pk])
    return format_html(
        '<img src="{}" style="height:{}px;border-radius:4px" alt="face #{}">', url, size, sample.pk
    )


def describe_quality(quality: dict | None) -> str:
    """A face's measured quality in words ("face 91x109 px, eyes 46 px apart, ...")
    instead of the stored JSON."""
    if not quality:
        return "-"
    parts = []
    if "face_width" in quality and "face_height" in quality:
        parts.append(f"face {quality['face_width']:.0f}x{quality['face_height']:.0f} px")
    if "inter_eye_px" in quality:
        parts.append(f"eyes {quality['inter_eye_px']:.0f} px apart")
    if "blur" in quality:
        parts.append(f"sharpness {quality['blur']:.0f}")
    if "yaw_deg" in quality:
        parts.append(f"turned {abs(quality['yaw_deg']):.0f}°")
    if "det_score" in quality:
        parts.append(f"detector {quality['det_score']:.2f}")
    return ", ".join(parts) or "-"


class FaceSampleInline(admin.TabularInline):
    """The person's enrolment photos under the person, as thumbnails."""

    model = FaceSample
    extra = 0
    can_delete = True
    fields = ("preview", "source", "quality_summary", "created_by", "created_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "Enrolled faces"

    def has_add_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        """Photos are enrolled through the person form or the API, which run the quality
        gates; a raw inline upload would skip them."""
        return False

    def has_view_permission(self, request: HttpRequest, obj: FaceSample | None = None) -> bool:
        """Only roles that may see enrolment photos see the inline (``GET /people/{id}/faces``
        in the API); others still see the person."""
        return has_capability(request, AdminCapability.VIEW_ENROLMENT_PHOTOS) and (
            super().has_view_permission(request, obj)
        )

    @admin.display(description="photo")
    def preview(self, sample: FaceSample) -> str:
        """The photo as a thumbnail."""
        return thumbnail(sample)

    @admin.display(description="quality")
    def quality_summary(self, sample: FaceSample) -> str:
        """The measured quality in words."""
        return describe_quality(sample.quality)


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    """Departments with how many people each has."""

    list_display = ("name", "people_count")
    search_fields = ("name",)
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        """Counts people in the same query, so the list is one query, not one per row."""
        return super().get_queryset(request).annotate(people_count=Count("people"))

    @admin.display(ordering="people_count", description="people")
    def people_count(self, department: Department) -> int:
        """How many people are in the department (annotated by ``get_queryset``)."""
        return department.people_count


class PersonForm(forms.ModelForm):
    """The person's fields, their biometric consent, and an optional photo to enrol. The
    photo is read and checked (one face, quality gates) before anything is saved, in the
    API's words, so a refused photo is an error on the form, never a red message beside
    a green "added"."""

    has_consent = forms.BooleanField(
        required=False,
        label="Biometric consent given",
        help_text="Needed before any face is enrolled. Unticking it withdraws consent and "
        "erases the person's photos and embeddings.",
    )
    new_face_photo = FacePhotoField(
        required=False, help_text="Enrol a face: one frontal photo, at least 100 px wide."
    )
    face_index = forms.IntegerField(
        required=False, min_value=0, help_text="Which face, if the photo has several."
    )

    class Meta:
        model = Person
        fields = ["employee_code", "full_name", "email", "department", "job_title", "active"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["has_consent"].initial = self.instance.has_consent

    def clean(self) -> dict:
        """A photo needs consent ticked and must pass enrolment's checks."""
        cleaned = super().clean()
        image = cleaned.get("new_face_photo")
        if image is None:
            return cleaned
        if not cleaned.get("has_consent"):
            self.add_error(
                "has_consent", "Tick this to enrol a photo: faces need recorded consent."
            )
            return cleaned
        try:
            check_photo(image, face_index=cleaned.get("face_index"))
        except FacesError as exc:
            self.add_error("new_face_photo", exc.message)
        return cleaned


class IdentifyForm(forms.Form):
    """A photo to identify, and optionally the one person to verify it against."""

    photo = FacePhotoField()
    verify_person = forms.ModelChoiceField(
        queryset=Person.objects.all(),
        required=False,
        widget=AutocompleteSelect(FaceSample._meta.get_field("person"), admin.site),
        help_text="Optional: check the largest face against this person only (1:1).",
    )


@admin.register(Person)
class PersonAdmin(PanelsAdminMixin, AuditedModelAdmin):
    """People, their consent and photos, with identify/verify and erasure for HR; higher
    apps add read-only panels to the page (``accounts.admin_panels.add_panel``)."""

    form = PersonForm
    change_form_template = "admin/faces/person/change_form.html"
    list_display = (
        "full_name",
        "employee_code",
        "department",
        "job_title",
        "active",
        "has_consent",
        "faces",
    )
    list_filter = ("active", "department", ("consent_at", admin.EmptyFieldListFilter))
    search_fields = ("full_name", "employee_code", "email", "job_title")
    list_select_related = ("department",)
    ordering = ("full_name", "employee_code")
    autocomplete_fields = ("department",)
    readonly_fields = ("consent_at", "consent_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("employee_code", "full_name", "email", "department", "job_title")}),
        ("Status", {"fields": ("active", "created_at", "updated_at")}),
        ("Biometric consent", {"fields": ("has_consent", "consent_at", "consent_by")}),
        ("Enrol a face", {"fields": ("new_face_photo", "face_index")}),
    )
    inlines = [FaceSampleInline]
    actions = ["record_consent", "erase_biometrics"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        """Counts photos in the same query for the list's "faces" column."""
        return super().get_queryset(request).annotate(face_total=Count("faces"))

    def get_urls(self) -> list[URLPattern]:
        """Adds the identify page under the person admin, behind the admin's login."""
        view = self.admin_site.admin_view(self.identify_view)
        return [path("identify/", view, name="faces_person_identify"), *super().get_urls()]

    def identify_view(self, request: HttpRequest) -> HttpResponse:
        """Identify (1:N) or verify (1:1) a photo from the back-office; nothing is stored."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "results": None}
        form = IdentifyForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                image = form.cleaned_data["photo"]
                person = form.cleaned_data.get("verify_person")
                if person is not None:
                    context["verification"] = {
                        "person": person,
                        **vars(services.verify(image, person)),
                    }
                context["results"] = self._identified(services.identify(image))
            except FacesError as exc:
                context["error"] = exc.message
        context.update(form=form, threshold=services.current_gallery().thresholds.match)
        return TemplateResponse(request, "admin/faces/identify.html", context)

    @staticmethod
    def _identified(results: list[IdentifiedFace]) -> list[dict]:
        ids = {c.person_id for r in results for c in r.candidates}
        people = Person.objects.in_bulk(ids)
        return [
            {
                "bbox": [round(v) for v in r.face.bbox],
                "status": r.status,
                "person": people.get(r.person_id),
                "score": round(r.score, 2),
                "candidates": [
                    {"person": people.get(c.person_id), "score": round(c.score, 2)}
                    for c in r.candidates
                ],
            }
            for r in results
        ]

    def save_model(self, request: HttpRequest, obj: Person, form: PersonForm, change: bool) -> None:
        """Saves the person with the consent as ticked: given now by the signed-in user,
        or withdrawn, which erases their biometric data as the API's
        ``has_consent: false`` does."""
        consent = form.cleaned_data.get("has_consent", obj.has_consent)
        withdrawn = change and obj.has_consent and not consent
        if consent and not obj.has_consent:
            obj.consent_at, obj.consent_by = timezone.now(), request.user
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if withdrawn:
                erase_person(obj, admin_context(request))
                obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: PersonForm, formsets: list, change: bool
    ) -> None:
        """Enrols the new photo once the person is saved (the form already checked it)."""
        super().save_related(request, form, formsets, change)
        image = form.cleaned_data.get("new_face_photo")
        if image is None:
            return
        try:
            enrol(
                form.instance,
                image,
                context=admin_context(request),
                face_index=form.cleaned_data.get("face_index"),
            )
        except FacesError as exc:
            self.message_user(request, f"The photo was not enrolled: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, "The photo was enrolled.", messages.SUCCESS)

    @admin.display(boolean=True, description="consent")
    def has_consent(self, person: Person) -> bool:
        """Whether biometric consent is recorded."""
        return person.has_consent

    @admin.display(ordering="face_total", description="faces")
    def faces(self, person: Person) -> int:
        """How many enrolment photos the person has."""
        return person.face_total

    @admin.action(
        description="Record biometric consent (given now)",
        permissions=[AdminCapability.RECORD_CONSENT],
    )
    def record_consent(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        """Records consent given now, by the signed-in user, for those without it."""
        count = 0
        for person in queryset.filter(consent_at__isnull=True):
            before = audit.snapshot(person)
            person.consent_at, person.consent_by = timezone.now(), request.user
            person.save(update_fields=["consent_at", "consent_by", "updated_at"])
            audit.record_update(person, before, admin_context(request))
            count += 1
        self.message_user(request, f"Consent recorded for {count} person(s).")

    @admin.action(
        description="Erase all biometric data (photos, embeddings)",
        permissions=[AdminCapability.ERASE_BIOMETRICS],
    )
    def erase_biometrics(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        """Erases photos, embeddings and assigned unknown-face data (GDPR art. 17)."""
        for person in queryset:
            erase_person(person, admin_context(request))
        self.message_user(request, f"Erased biometric data of {queryset.count()} person(s).")


@admin.register(FaceSample)
class FaceSampleAdmin(PrivateImageAdminMixin, AuditedModelAdmin):
    """Enrolment photos: only for roles that may see them (``view_enrolment_photos``)."""

    private_images = (
        PrivateImage(
            "image",
            read=lambda sample: sample.image,
            permission=AdminCapability.VIEW_ENROLMENT_PHOTOS,
            label="photo",
        ),
    )
    list_display = ("preview", "person", "source", "quality_summary", "created_at")
    list_filter = ("source", "person__department")
    search_fields = ("person__full_name", "person__employee_code")
    list_select_related = ("person",)
    date_hierarchy = "created_at"
    fields = (
        "preview_large",
        "person",
        "bbox",
        "quality_summary",
        "source",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Photos come in through enrolment, which runs the quality gates."""
        return False

    @admin.display(description="photo")
    def preview(self, sample: FaceSample) -> str:
        """The photo as a list thumbnail."""
        return thumbnail(sample, 64)

    @admin.display(description="photo")
    def preview_large(self, sample: FaceSample) -> str:
        """The photo at a size to judge it by."""
        return thumbnail(sample, 240)

    @admin.display(description="quality")
    def quality_summary(self, sample: FaceSample) -> str:
        """The measured quality in words."""
        return describe_quality(sample.quality)

    def has_view_permission(self, request: HttpRequest, obj: FaceSample | None = None) -> bool:
        """Only roles that may see enrolment photos, as in the API."""
        return has_capability(request, AdminCapability.VIEW_ENROLMENT_PHOTOS) and (
            super().has_view_permission(request, obj)
        )


@admin.register(ReembedJob)
class ReembedJobAdmin(ReadOnlyModelAdmin):
    """Progress of re-embedding jobs. "Add" starts a job for the model this server runs."""

    list_display = ("created_at", "model_key", "status", "progress_bar", "failed", "finished_at")
    list_filter = ("status", "model_key")
    search_fields = ("model_key",)

    @admin.display(description="progress")
    def progress_bar(self, job: ReembedJob) -> str:
        """Done out of total, as a bar."""
        return format_html(
            '<progress value="{}" max="{}"></progress> {}/{}',
            job.done,
            max(job.total, 1),
            job.done,
            job.total,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Starting a job is its own permission, since it rewrites every embedding."""
        return request.user.has_perm("faces.add_reembedjob")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """ "Add" starts a job at once: there is nothing to fill in."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        job = start_reembed(admin_context(request))
        self.message_user(request, f"Re-embedding job #{job.pk}: {job}", messages.INFO)
        return redirect("admin:faces_reembedjob_changelist")
