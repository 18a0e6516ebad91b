"""The base every ModelAdmin uses, so changes made in the back-office are audit-logged
exactly like changes made through the API, and its actions and pages are decided by the
role policy (``accounts.admin_roles``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest

from accounts import audit
from accounts.admin_roles import RoleAdminMixin
from accounts.models import AuditSource


def admin_context(request: HttpRequest) -> audit.AuditContext:
    """Who did it and from where, marked as done through the admin."""
    return audit.AuditContext.from_request(request, source=AuditSource.ADMIN)


class AuditedModelAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Records add, change and delete (single, bulk and inline) in the audit log."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        """Save and audit in one transaction: a create, or an update with its diff."""
        before = None
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = audit.snapshot(stored) if stored is not None else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if before is None:
                audit.record_create(obj, admin_context(request))
            else:
                audit.record_update(obj, before, admin_context(request))

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        """Delete and audit in one transaction, keeping the deleted values in the log."""
        before, object_id = audit.snapshot(obj), obj.pk
        with transaction.atomic():
            super().delete_model(request, obj)
            audit.record_delete(obj, before, object_id, admin_context(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """The bulk delete action, audited row by row like single deletes."""
        rows = [(obj, audit.snapshot(obj), obj.pk) for obj in queryset]
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            context = admin_context(request)
            for obj, before, object_id in rows:
                audit.record_delete(obj, before, object_id, context)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseModelFormSet, change: bool
    ) -> None:
        """Inline rows are audited too: created, changed and deleted ones."""
        befores = {}
        for inline_form in formset.forms:
            instance = inline_form.instance
            if instance.pk and inline_form.has_changed():
                stored = type(instance)._default_manager.filter(pk=instance.pk).first()
                if stored is not None:
                    befores[instance.pk] = audit.snapshot(stored)
        deleted = [
            (f.instance, audit.snapshot(f.instance), f.instance.pk)
            for f in formset.deleted_forms
            if f.instance.pk
        ]
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            context = admin_context(request)
            for obj in formset.new_objects:
                audit.record_create(obj, context)
            for obj, _fields in formset.changed_objects:
                if obj.pk in befores:
                    audit.record_update(obj, befores[obj.pk], context)
            for obj, before, object_id in deleted:
                audit.record_delete(obj, before, object_id, context)


class ReadOnlyModelAdmin(RoleAdminMixin, admin.ModelAdmin):
    """For records nobody may add, edit or delete by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Nobody adds these records by hand."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody edits these records by hand."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody deletes these records by hand."""
        return False
