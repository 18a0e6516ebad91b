"""Routes of the attendance API, mounted under /api/v1/."""

from config.api.routers import ApiRouter

router = ApiRouter()

urlpatterns = [*router.urls]
