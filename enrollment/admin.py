from django.contrib import admin
from django.urls import reverse

from enrollment.models import (
    Certificate,
    Enrollment,
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
    readonly_fields = [
        "number",
        "created_at",
        "updated_at",
        "activated_at",
        "completed_at",
        "ended_at",
    ]
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


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    """Certificates are issued by completion only and never edited: what they certify was
    copied when they were issued, and their code may already be printed on paper."""

    list_display = ["code", "student_name", "course_title", "issued_at", "enrollment"]
    list_select_related = ["enrollment"]
    search_fields = ["code", "student_name", "course_title", "enrollment__number"]
    date_hierarchy = "issued_at"
    readonly_fields = [field.name for field in Certificate._meta.fields if field.name != "id"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def view_on_site(self, obj: Certificate) -> str:
        return reverse("certificate-page", kwargs={"code": obj.code})


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "payment_reference", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id", "payment_reference"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
