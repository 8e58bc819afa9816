"""The enrollment admin. Statuses are read-only here: they change through the same services
the API uses (enrollment.services, enrollment.reconcile, which call enrollment.transitions,
the only writer of statuses), run by the actions below, each row reported on its own."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from enrollment import reconcile, services
from enrollment.models import (
    Certificate,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    Payment,
    PaymentCall,
    PaymentStatus,
    Receipt,
    Student,
    WebhookEvent,
)
from portal.errors import ApplicationError


def _paid(enrollment: Enrollment) -> bool:
    payment = Payment.objects.filter(enrollment=enrollment).first()
    return payment is not None and payment.status == PaymentStatus.SUCCEEDED


def _refund(enrollment: Enrollment) -> str:
    """Staff may refund outside the course's refund rule (a goodwill refund); the rest of
    the cancel service applies (a completed enrollment is not undone)."""
    if not _paid(enrollment):
        raise ApplicationError("No succeeded payment to refund.")
    services.enrollment_cancel(enrollment=enrollment, outside_policy=True)
    return "refunded"


def _cancel(enrollment: Enrollment) -> str:
    if _paid(enrollment):
        raise ApplicationError("Paid: use “Refund” to cancel it with its money back.")
    services.enrollment_cancel(enrollment=enrollment)
    return "cancelled"


def _activate(enrollment: Enrollment) -> str:
    """A pending enrollment finished as a retried request would be: a free one is
    activated, a paid one takes its payment's outcome from the gateway."""
    if enrollment.status != EnrollmentStatus.PENDING:
        raise ApplicationError(f"Not pending ({enrollment.status}): nothing to activate.")
    reconcile.enrollment_resume(enrollment_id=enrollment.pk)
    status = Enrollment.objects.values_list("status", flat=True).get(pk=enrollment.pk)
    if status != EnrollmentStatus.ACTIVE:
        raise ApplicationError(f"Still {status}: its payment has not succeeded.")
    return "activated"


def _each(admin_view, request: HttpRequest, queryset: QuerySet, act: Callable[[Enrollment], str]):
    """Run `act` on every selected enrollment; one message per row, success or failure."""
    for enrollment in queryset.select_related("student", "course").order_by("pk"):
        try:
            outcome = act(enrollment)
        except ApplicationError as exc:
            admin_view.message_user(request, f"{enrollment.number}: {exc.message}", messages.ERROR)
        except ValueError as exc:
            admin_view.message_user(request, f"{enrollment.number}: {exc}", messages.ERROR)
        else:
            admin_view.message_user(request, f"{enrollment.number} {outcome}.", messages.SUCCESS)


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
        "status",
        "activated_at",
        "completed_at",
        "ended_at",
        "end_reason",
    ]
    inlines = [PaymentInline]
    show_full_result_count = False
    actions = ["refund", "cancel", "activate"]

    @admin.action(description="Refund the selected paid enrollments (through the gateway)")
    def refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, _refund)

    @admin.action(description="Cancel the selected free or unpaid enrollments")
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, _cancel)

    @admin.action(description="Activate the selected pending enrollments")
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, _activate)


class PaymentCallInline(admin.TabularInline):
    """The payment's ledger: every gateway call, as it happened; never edited."""

    model = PaymentCall
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "created_at",
        "kind",
        "outcome",
        "reference",
        "error",
        "idempotency_key",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "amount", "currency", "status", "provider", "created_at"]
    list_filter = ["status", "provider"]
    list_select_related = ["enrollment"]
    search_fields = ["enrollment__number", "provider_reference"]
    raw_id_fields = ["enrollment"]
    # Changed by the enrollment's actions (refund, cancel, activate), never by hand.
    readonly_fields = ["status", "provider_reference", "failure_reason", "created_at"]
    inlines = [PaymentCallInline]


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "lesson", "completed", "position_seconds", "updated_at"]
    list_select_related = ["enrollment", "lesson"]
    raw_id_fields = ["enrollment", "lesson"]


class IssuedRecordAdmin(admin.ModelAdmin):
    """A record the pipeline issues and nobody edits (certificates, receipts): every field
    read-only, none added or deleted here."""

    list_select_related = ["enrollment"]
    date_hierarchy = "issued_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields if field.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(IssuedRecordAdmin):
    """Certificates are issued by completion only and never edited: what they certify was
    copied when they were issued, and their code may already be printed on paper."""

    list_display = ["code", "student_name", "course_title", "issued_at", "enrollment"]
    search_fields = ["code", "student_name", "course_title", "enrollment__number"]

    def view_on_site(self, obj: Certificate) -> str:
        return reverse("certificate-page", kwargs={"code": obj.code})


@admin.register(Receipt)
class ReceiptAdmin(IssuedRecordAdmin):
    """Receipts are issued by a paid activation only and never edited: they record a sale
    as it was made (and the buyer has a copy by email)."""

    list_display = ["number", "student_email", "course_title", "amount", "currency", "issued_at"]
    search_fields = ["number", "student_email", "student_name", "enrollment__number"]

    def view_on_site(self, obj: Receipt) -> str:
        return reverse("receipt-page", kwargs={"number": obj.number})


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "payment_reference", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id", "payment_reference"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
