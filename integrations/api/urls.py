"""Routes of the integrations API, mounted under /api/v1/."""

from config.api.routers import ApiRouter

router = ApiRouter()

urlpatterns = [*router.urls]
