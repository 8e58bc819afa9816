"""GET /api/me/export: everything the portal holds on an account, as one JSON document.

What it reads, by the model that holds it:
- portal.accounts: the User, its UserSession rows and AuthTokens (prefix and dates, never
  the hash);
- enrollment: the Student record linked to the account, its enrollments with their
  payment (and the ledger's calls), receipt, certificate and lesson progress;
- instructor: the announcements the account sent and the student record's opt-outs;
- catalog: the courses it teaches and the coupons it made;
- portal.events: its live-update log (events about another person's enrollment, such as
  an instructor's `enrollment.created`, are listed without their payload);
- portal.idempotency: the Idempotency-Keys it used (not the answers stored with them).

Guest purchases made with the account's email but never joined to it (the address was
not verified) are not the account's and are left out.
"""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from catalog.models import Coupon, CourseInstructor, WaitlistEntry
from catalog.presenters import money
from enrollment.models import (
    Certificate,
    Enrollment,
    LessonProgress,
    Payment,
    PaymentCall,
    Receipt,
    Student,
)
from instructor.models import Announcement, AnnouncementOptOut
from portal.accounts.models import AuthToken, User, UserSession
from portal.events.models import UserEvent
from portal.idempotency.decorators import user_scope
from portal.idempotency.models import IdempotencyKey
from portal.privacy import shapes
from portal.shapes import iso


def _when(value: datetime) -> str:
    return iso(value) or ""


def _one(enrollment: Enrollment, name: str) -> Any:
    """A reverse one-to-one (payment, receipt, certificate), or None."""
    try:
        return getattr(enrollment, name)
    except (Payment.DoesNotExist, Receipt.DoesNotExist, Certificate.DoesNotExist):
        return None


def _payment(payment: Payment | None) -> shapes.ExportPayment | None:
    if payment is None:
        return None
    return {
        "amount": money(payment.amount),
        "currency": payment.currency,
        "status": payment.status,
        "list_price": money(payment.list_price) if payment.list_price is not None else None,
        "coupon": payment.coupon_code or None,
        "attempts": payment.attempt,
        "provider": payment.provider,
        "failure_reason": payment.failure_reason or None,
        "created_at": _when(payment.created_at),
        "calls": [
            {"kind": call.kind, "outcome": call.outcome, "created_at": _when(call.created_at)}
            for call in payment.calls.all()
        ],
    }


def _receipt(receipt: Receipt | None) -> shapes.ExportReceipt | None:
    if receipt is None:
        return None
    return {
        "number": receipt.number,
        "issued_at": _when(receipt.issued_at),
        "amount": money(receipt.amount),
        "currency": receipt.currency,
        "coupon": receipt.coupon or None,
        "course_title": receipt.course_title,
        "student_name": receipt.student_name,
        "student_email": receipt.student_email,
        "emailed_at": iso(receipt.emailed_at),
    }


def _certificate(certificate: Certificate | None) -> shapes.ExportCertificate | None:
    if certificate is None:
        return None
    return {
        "code": certificate.code,
        "issued_at": _when(certificate.issued_at),
        "student_name": certificate.student_name,
        "course_title": certificate.course_title,
        "instructor_names": list(certificate.instructor_names),
    }


def _enrollment(enrollment: Enrollment) -> shapes.ExportEnrollment:
    return {
        "id": enrollment.pk,
        "number": enrollment.number,
        "student": enrollment.student_id,
        "course": {"slug": enrollment.course.slug, "title": enrollment.course.title},
        "status": enrollment.status,
        "created_at": _when(enrollment.created_at),
        "activated_at": iso(enrollment.activated_at),
        "completed_at": iso(enrollment.completed_at),
        "ended_at": iso(enrollment.ended_at),
        "end_reason": enrollment.end_reason or None,
        "payment": _payment(_one(enrollment, "payment")),
        "receipt": _receipt(_one(enrollment, "receipt")),
        "certificate": _certificate(_one(enrollment, "certificate")),
        "progress": [
            {
                "lesson": {"id": row.lesson_id, "title": row.lesson.title},
                "completed": row.completed,
                "completed_at": iso(row.completed_at),
                "position_seconds": row.position_seconds,
                "updated_at": _when(row.updated_at),
            }
            for row in enrollment.progress.all()
        ],
    }


def _event_enrollment_id(payload: dict[str, Any]) -> int | None:
    enrollment = payload.get("enrollment")
    if isinstance(enrollment, dict):
        enrollment = enrollment.get("id")
    return enrollment if isinstance(enrollment, int) else None


def _event(event: UserEvent, own_enrollments: set[int]) -> shapes.ExportEvent:
    payload = event.payload if isinstance(event.payload, dict) else {}
    about = _event_enrollment_id(payload)
    # Events with no enrollment (a waitlist place) are about the account itself.
    mine = about is None or about in own_enrollments
    return {
        "seq": event.seq,
        "type": event.type,
        "created_at": _when(event.created_at),
        "payload": payload if mine else None,
    }


def account_export(*, user: User) -> shapes.AccountExport:
    students = list(Student.objects.filter(user=user))
    enrollments = list(
        Enrollment.objects.filter(student__in=students)
        .select_related("course", "payment", "receipt", "certificate")
        .prefetch_related(
            Prefetch("payment__calls", queryset=PaymentCall.objects.order_by("created_at", "id")),
            Prefetch("progress", queryset=LessonProgress.objects.select_related("lesson")),
        )
        .order_by("created_at", "id")
    )
    own_enrollments = {enrollment.pk for enrollment in enrollments}
    return {
        "exported_at": _when(timezone.now()),
        "account": {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "roles": user.roles,
            "email_verified": user.email_verified,
            "email_verified_at": iso(user.email_verified_at),
            "pending_email": user.pending_email or None,
            "date_joined": _when(user.date_joined),
            "last_login": iso(user.last_login),
        },
        "sessions": [
            {
                "id": f"s{row.pk}",
                "created_at": _when(row.created_at),
                "last_used_at": iso(row.last_used_at),
                "user_agent": row.user_agent,
            }
            for row in UserSession.objects.filter(user=user).order_by("created_at", "id")
        ],
        "tokens": [
            {
                "id": f"t{token.pk}",
                "prefix": token.prefix,
                "created_at": _when(token.created_at),
                "expires_at": _when(token.expires_at),
                "revoked_at": iso(token.revoked_at),
                "last_used_at": iso(token.last_used_at),
                "user_agent": token.user_agent,
            }
            for token in AuthToken.objects.filter(user=user).order_by("created_at", "id")
        ],
        "students": [
            {
                "id": student.pk,
                "email": student.email,
                "name": student.name,
                "created_at": _when(student.created_at),
            }
            for student in students
        ],
        "enrollments": [_enrollment(enrollment) for enrollment in enrollments],
        "announcement_opt_outs": [
            {
                "course": {"slug": row.course.slug, "title": row.course.title},
                "created_at": _when(row.created_at),
            }
            for row in AnnouncementOptOut.objects.filter(student__in=students)
            .select_related("course")
            .order_by("created_at", "id")
        ],
        "events": [
            _event(event, own_enrollments)
            for event in UserEvent.objects.filter(user=user).order_by("seq")
        ],
        "courses_taught": [
            {
                "course": {"slug": link.course.slug, "title": link.course.title},
                "position": link.position,
                "published_at": iso(link.course.published_at),
            }
            for link in CourseInstructor.objects.filter(user=user).select_related("course")
        ],
        "announcements": [
            {
                "id": row.pk,
                "course": {"slug": row.course.slug, "title": row.course.title},
                "subject": row.subject,
                "body": row.body,
                "status": row.status,
                "recipients": row.recipients,
                "sent": row.sent,
                "created_at": _when(row.created_at),
                "finished_at": iso(row.finished_at),
            }
            for row in Announcement.objects.filter(author=user)
            .select_related("course")
            .order_by("created_at", "id")
        ],
        "waitlist": [
            {
                "course": {"slug": entry.course.slug, "title": entry.course.title},
                "status": entry.status,
                "joined_at": _when(entry.joined_at),
                "offered_at": iso(entry.offered_at),
                "offer_expires_at": iso(entry.offer_expires_at),
                "ended_at": iso(entry.ended_at),
            }
            for entry in WaitlistEntry.objects.filter(user=user)
            .select_related("course")
            .order_by("id")
        ],
        "coupons_created": [
            {
                "code": coupon.code,
                "course": {"slug": coupon.course.slug, "title": coupon.course.title}
                if coupon.course
                else None,
                "percent_off": coupon.percent_off,
                "amount_off": money(coupon.amount_off) if coupon.amount_off is not None else None,
                "max_redemptions": coupon.max_redemptions,
                "redeemed": coupon.redeemed,
                "expires_at": iso(coupon.expires_at),
                "created_at": _when(coupon.created_at),
            }
            for coupon in Coupon.objects.filter(created_by=user)
            .select_related("course")
            .order_by("created_at", "id")
        ],
        "idempotency_keys": [
            {
                "key": row.key,
                "state": row.state,
                "created_at": _when(row.created_at),
                "expires_at": _when(row.expires_at),
            }
            for row in IdempotencyKey.objects.filter(scope=user_scope(user.pk)).order_by(
                "created_at", "id"
            )
        ],
    }
