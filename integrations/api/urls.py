"""Routes of the integrations API, mounted under /api/v1/."""

from django.urls import path

from config.api.routers import ApiRouter
from integrations.api.views import OdooConnectionViewSet

router = ApiRouter()

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
    *router.urls,
]
