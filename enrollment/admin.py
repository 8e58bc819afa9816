from django.contrib import admin

from enrollment.models import (
    Enrollment,
    FailedJob,
    LessonProgress,
    Payment,
    Student,
    WebhookEvent,
)


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "user", "created_at"]
    search_fields = ["email", "name"]
    raw_id_fields = ["user"]


class PaymentInline(admin.StackedInline):
    model = Payment
    extra = 0
    readonly_fields = [
        "amount",
        "currency",
        "status",
        "provider",
        "provider_reference",
        "failure_reason",
        "created_at",
        "updated_at",
    ]
    can_delete = False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["number", "student", "course", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["student", "course"]
    search_fields = ["number", "student__email", "course__title"]
    raw_id_fields = ["student", "course"]
    readonly_fields = ["number", "created_at", "updated_at", "activated_at", "ended_at"]
    inlines = [PaymentInline]
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "amount", "currency", "status", "provider", "created_at"]
    list_filter = ["status", "provider"]
    list_select_related = ["enrollment"]
    search_fields = ["enrollment__number", "provider_reference"]
    raw_id_fields = ["enrollment"]


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "lesson", "completed", "position_seconds", "updated_at"]
    list_select_related = ["enrollment", "lesson"]
    raw_id_fields = ["enrollment", "lesson"]


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    list_display = ["task_name", "queue", "failed_at", "retried_at", "short_exception"]
    list_filter = ["task_name", "queue"]
    readonly_fields = [field.name for field in FailedJob._meta.fields]
    actions = ["retry_jobs"]

    @admin.display(description="Exception")
    def short_exception(self, job: FailedJob) -> str:
        return job.exception[:80]

    @admin.action(description="Retry the selected jobs")
    def retry_jobs(self, request, queryset) -> None:
        from enrollment.jobs_admin import failed_jobs_retry

        count = failed_jobs_retry(jobs=list(queryset))
        self.message_user(request, f"Queued {count} job(s) again.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "payment_reference", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id", "payment_reference"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
