"""Routes of the cameras API, mounted under /api/v1/."""

from cameras.api.views import CameraViewSet
from config.api.routers import ApiRouter

router = ApiRouter()
router.register("cameras", CameraViewSet, basename="camera")

urlpatterns = [*router.urls]
