from django.contrib import admin

from portal.outbox.models import Effect


@admin.register(Effect)
class EffectAdmin(admin.ModelAdmin):
    list_display = ["id", "handler", "created_at", "available_at", "attempts", "short_error"]
    list_filter = ["handler"]
    search_fields = ["request_id"]
    readonly_fields = [field.name for field in Effect._meta.fields]

    @admin.display(description="Last error")
    def short_error(self, effect: Effect) -> str:
        return effect.last_error[:80]
