"""Generic role-matrix checks for CRUD endpoints (in the spirit of NetBox's
``utilities/testing/api.py``): every app's tests describe an endpoint once and get the
whole role x action grid checked, including that a refused call changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

ACTIONS = ("list", "retrieve", "create", "update", "delete")
ALL_OK = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "delete": 204}
READ_ONLY = {"list": 200, "retrieve": 200, "create": 403, "update": 403, "delete": 403}
FORBIDDEN = dict.fromkeys(ACTIONS, 403)
UNAUTHENTICATED = dict.fromkeys(ACTIONS, 401)


@dataclass
class CrudEndpoint:
    """How to call one resource: ``make`` builds a fresh object for update/delete."""

    model: type[models.Model]
    list_url: str
    make: Callable[[], models.Model]
    create_payload: Callable[[], dict[str, Any]]
    update_payload: dict[str, Any] = field(default_factory=dict)
    create_format: str = "json"

    def detail_url(self, obj: models.Model) -> str:
        return f"{self.list_url}/{obj.pk}"


def table_state(model: type[models.Model]) -> list[dict]:
    return [model_to_dict(obj) for obj in model._default_manager.order_by("pk")]


def check_role_matrix(
    clients: dict, endpoint: CrudEndpoint, expected: dict[str, dict[str, int]]
) -> None:
    """Assert the status of every (role, action) pair; refused calls leave the table as
    it was. Collects every mismatch before failing, so one run shows the whole grid."""
    failures = []
    for role, by_action in expected.items():
        for action in ACTIONS:
            want = by_action[action]
            client = clients[role]
            if action in ("list", "create"):
                before = table_state(endpoint.model)
                if action == "list":
                    response = client.get(endpoint.list_url)
                else:
                    payload = endpoint.create_payload()
                    response = client.post(
                        endpoint.list_url, payload, format=endpoint.create_format
                    )
                if response.status_code >= 400 and table_state(endpoint.model) != before:
                    failures.append(f"{role} {action}: refused but the table changed")
            else:
                response = _call_on_fresh(client, endpoint, action)
            if response.status_code != want:
                failures.append(f"{role} {action}: got {response.status_code}, want {want}")
            if response.status_code >= 400 and "error" not in response.json():
                failures.append(f"{role} {action}: error without the envelope")
    assert not failures, "\n".join(failures)


def _call_on_fresh(client, endpoint: CrudEndpoint, action: str):
    obj = endpoint.make()
    before = model_to_dict(obj)
    url = endpoint.detail_url(obj)
    if action == "retrieve":
        response = client.get(url)
    elif action == "update":
        response = client.patch(url, endpoint.update_payload, format="json")
    else:
        response = client.delete(url)
    if response.status_code >= 400:
        stored = endpoint.model._default_manager.filter(pk=obj.pk).first()
        assert stored is not None and model_to_dict(stored) == before, (
            f"{action} was refused ({response.status_code}) but the object changed"
        )
    return response
