from django.contrib import admin

from portal.idempotency.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "scope", "state", "response_status", "created_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["key"]
    readonly_fields = [field.name for field in IdempotencyKey._meta.fields]
