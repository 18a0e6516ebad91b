"""Read-only panels that a higher app adds to a lower app's admin page.

A person's page shows their detections and attendance days, and a detection's page shows
the attendance decision it led to, yet faces and detections may not import the apps built
on them. So the higher app's admin module registers a panel for the lower model with
``add_panel``, and the lower admin, mixing in ``PanelsAdminMixin``, shows every panel the
user may view below its form (``templates/admin/includes/panels.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join


@dataclass(frozen=True)
class AdminPanel:
    """A titled section of a change page. ``model`` is the one whose view permission the
    panel needs; ``render`` takes the page's object and returns safe HTML."""

    title: str
    model: type[Model]
    render: Callable[[Any], str]


_PANELS: dict[type[Model], list[AdminPanel]] = {}


def add_panel(page: type[Model], panel: AdminPanel) -> None:
    """Show ``panel`` on the change page of every ``page`` object (once, whatever the
    import order)."""
    panels = _PANELS.setdefault(page, [])
    if all(existing.title != panel.title for existing in panels):
        panels.append(panel)


def panels_for(page: type[Model]) -> list[AdminPanel]:
    """The panels registered for ``page``'s change page, in registration order."""
    return list(_PANELS.get(page, ()))


def visible_panels(request: HttpRequest, obj: Model) -> list[tuple[str, str]]:
    """(title, HTML) of each panel of ``obj``'s page whose model the user may view."""
    return [
        (panel.title, panel.render(obj))
        for panel in panels_for(type(obj))
        if request.user.has_perm(
            f"{panel.model._meta.app_label}.view_{panel.model._meta.model_name}"
        )
    ]


def html_table(headers: tuple[str, ...], rows: list[tuple], empty: str) -> str:
    """A small admin-styled table for a panel; every cell is escaped unless safe."""
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class PanelsAdminMixin:
    """Puts the visible panels of the object into its change page's context as
    ``admin_panels``; the page's template includes ``admin/includes/panels.html``."""

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """The change page, with the panels higher apps registered for the model."""
        obj = self.get_object(request, object_id)
        panels = visible_panels(request, obj) if obj is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "admin_panels": panels}
        )
