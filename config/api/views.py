"""Catch-all for unknown API paths: a 404 in the envelope even with DEBUG on."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.api.errors import error_response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """The envelope 404 for any method: exempt from CSRF like every API view (they
    authenticate with a bearer token), so a DELETE to an unknown path is not a 403 page."""
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")
