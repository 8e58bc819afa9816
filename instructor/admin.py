from django.contrib import admin

from instructor.models import Announcement, AnnouncementOptOut


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Announcements are written by instructors through the API and sent by jobs: shown
    here for support, never edited (a change would not reach mail already sent)."""

    list_display = ["subject", "course", "author", "status", "recipients", "sent", "created_at"]
    list_filter = ["status"]
    list_select_related = ["course", "author"]
    search_fields = ["subject", "course__title", "author__email"]
    readonly_fields = [field.name for field in Announcement._meta.fields]
    raw_id_fields = ["course", "author"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AnnouncementOptOut)
class AnnouncementOptOutAdmin(admin.ModelAdmin):
    list_display = ["student", "course", "created_at"]
    list_select_related = ["student", "course"]
    search_fields = ["student__email", "course__title"]
    raw_id_fields = ["student", "course"]
