"""Routes of the faces API, mounted under /api/v1/."""

from django.urls import path

from config.api.routers import ApiRouter
from faces.api.views import (
    DepartmentViewSet,
    IdentifyView,
    PersonViewSet,
    ReembedJobViewSet,
    VerifyView,
)

router = ApiRouter()
router.register("people", PersonViewSet, basename="person")
router.register("departments", DepartmentViewSet, basename="department")
router.register("faces/reembed-jobs", ReembedJobViewSet, basename="reembedjob")

urlpatterns = [
    path("faces/identify", IdentifyView.as_view(), name="faces-identify"),
    path("faces/verify", VerifyView.as_view(), name="faces-verify"),
    *router.urls,
]
