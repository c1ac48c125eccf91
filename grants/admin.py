"""The Django admin for superusers (read-only views of the grants' tables).

Staff never need it: the portal's own pages do the work. It also serves as the
baseline that bench/pages.py measures the review queue against.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from grants.models import Application, Decision, Lodge, NinoxGrant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "lodge",
        "charity_name",
        "amount_requested",
        "status",
        "submitted_at",
    ]
    list_filter = ["status", "fiscal_year", "lodge__district"]
    search_fields = ["reference", "lodge__name", "charity_name", "contact_name"]
    list_select_related = ["lodge"]


@admin.register(Lodge)
class LodgeAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "district", "active"]
    search_fields = ["name", "number"]


@admin.register(NinoxGrant)
class NinoxGrantAdmin(ReadOnlyAdmin):
    list_display = ["ninox_id", "reference", "lodge", "amount", "grant_date", "status"]
    list_select_related = ["lodge"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "outcome", "decided_by_name", "created_at"]
    list_select_related = ["application"]
