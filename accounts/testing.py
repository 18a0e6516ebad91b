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


@dataclass
class AdminActionCase:
    """One admin action of one model, described once for the admin role matrix.

    ``make`` builds a fresh object to run it on; ``took_effect(obj, page)`` tells whether
    it ran, from the database or the page shown after it (its messages); ``tables`` are
    the models besides ``model`` that it may change, which a refusal must leave alone.
    """

    model: type[models.Model]
    action: str
    allowed: frozenset[str]
    make: Callable[[], models.Model]
    took_effect: Callable[[models.Model, str], bool]
    tables: tuple[type[models.Model], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.model._meta.label_lower, self.action)

    @property
    def changelist_url(self) -> str:
        from django.urls import reverse

        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def admin_site_actions(site: Any) -> set[tuple[str, str]]:
    """Every (model label, action name) that ``site`` offers to someone."""
    return {
        (model._meta.label_lower, name)
        for model, model_admin in site._registry.items()
        if model_admin.actions is not None
        for _func, name, _description in model_admin._get_base_actions()
    }


def check_admin_action_matrix(browsers: dict[str, Any], cases: list[AdminActionCase]) -> None:
    """Post every action through the real changelist as every role: an allowed role is
    offered the action and it runs; any other role is not offered it, and posting it
    anyway changes nothing. Collects every mismatch before failing."""
    failures = []
    for case in cases:
        for role, browser in browsers.items():
            obj = case.make()
            tables = (case.model, *case.tables)
            before = [table_state(model) for model in tables]
            listing = browser.get(case.changelist_url)
            offered = (
                listing.status_code == 200
                and f'<option value="{case.action}"' in listing.content.decode()
            )
            response = browser.post(
                case.changelist_url,
                {"action": case.action, "_selected_action": [obj.pk], "post": "yes"},
                follow=True,
            )
            ran = case.took_effect(obj, response.content.decode())
            label = f"{case.key[0]} {case.action} as {role}"
            if role in case.allowed:
                if not offered:
                    failures.append(f"{label}: not offered")
                if not ran:
                    failures.append(f"{label}: did not run")
            else:
                if offered:
                    failures.append(f"{label}: offered")
                if ran or [table_state(model) for model in tables] != before:
                    failures.append(f"{label}: refused, but it changed something")
    assert not failures, "\n".join(failures)
