"""Routes of the detections API, mounted under /api/v1/."""

from config.api.routers import ApiRouter
from detections.api.views import DetectionViewSet, UnknownFaceViewSet

router = ApiRouter()
router.register("detections/unknown-faces", UnknownFaceViewSet, basename="unknownface")
router.register("detections", DetectionViewSet, basename="detection")

urlpatterns = [*router.urls]
