"""Catch-all for unknown API paths: a 404 in the envelope even with DEBUG on."""

from config.api.errors import error_response


def api_not_found(request, *args, **kwargs):
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")
