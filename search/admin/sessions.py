"""Search sessions in the admin: for support, superusers only, read-only."""

from __future__ import annotations

from django.contrib import admin

from search.models import SearchSession, SearchTurn


class TurnInline(admin.TabularInline):
    model = SearchTurn
    fields = ["position", "kind", "text", "query_text", "model_key", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(SearchSession)
class SearchSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "created_at", "updated_at"]
    search_fields = ["title", "user__username"]
    readonly_fields = ["user", "title", "created_at", "updated_at"]
    inlines = [TurnInline]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
