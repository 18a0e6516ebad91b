"""Routes of the integrations API, mounted under /api/v1/."""

from django.urls import path

from config.api.routers import ApiRouter
from integrations.api.views import OdooConnectionViewSet, OdooOutboxViewSet, OdooSyncJobViewSet

router = ApiRouter()
router.register("integrations/odoo/jobs", OdooSyncJobViewSet, basename="odoo-job")
router.register("integrations/odoo/outbox", OdooOutboxViewSet, basename="odoo-outbox")

urlpatterns = [
    path(
        "integrations/odoo",
        OdooConnectionViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="odoo-connection",
    ),
    path(
        "integrations/odoo/test",
        OdooConnectionViewSet.as_view({"post": "test"}, throttle_scope="odoo_test"),
        name="odoo-connection-test",
    ),
    path(
        "integrations/odoo/sync",
        OdooConnectionViewSet.as_view({"post": "sync"}),
        name="odoo-sync",
    ),
    *router.urls,
]
