"""Enrollments as the contract's JSON shapes (enrollment.shapes)."""

from typing import Any, overload

from django.urls import reverse

from catalog.presenters import course_summary, money
from enrollment import selectors, shapes
from enrollment.models import Certificate, Enrollment, Payment, Receipt
from enrollment.refunds import RefundTerms, refund_terms
from portal.shapes import iso


def progress_body(*, completed: int, total: int) -> shapes.Progress:
    percent = round(100 * completed / total, 1) if total else 0.0
    return {"completed_lessons": completed, "total_lessons": total, "percent": percent}


def payment_body(payment: Payment | None) -> shapes.Payment | None:
    if payment is None:
        return None
    return {
        "status": payment.status,
        "amount": money(payment.amount),
        "currency": payment.currency,
        "failure_reason": payment.failure_reason or None,
        "next_action": next_action_body(payment),
        "attempts": payment.attempt,
        "coupon": payment.coupon_code or None,
        "list_price": money(
            payment.list_price if payment.list_price is not None else payment.amount
        ),
    }


def next_action_body(payment: Payment) -> shapes.NextAction | None:
    action = payment.next_action
    if payment.status != "requires_action" or not isinstance(action, dict):
        return None
    return {
        "type": action.get("type") or "use_stripe_sdk",
        "client_secret": action.get("client_secret") or "",
        "redirect_url": action.get("redirect_url") or None,
    }


def _payment_of(enrollment: Enrollment) -> Payment | None:
    try:
        return enrollment.payment
    except Payment.DoesNotExist:
        return None


def _certificate_of(enrollment: Enrollment) -> Certificate | None:
    try:
        return enrollment.certificate
    except Certificate.DoesNotExist:
        return None


def certificate_url(code: str) -> str:
    """The verification page's path (a path: the event and the API agree on it whatever
    host the client reached)."""
    return reverse("certificate-page", kwargs={"code": code})


@overload
def certificate_ref(certificate: Certificate) -> shapes.CertificateRef: ...
@overload
def certificate_ref(certificate: Certificate | None) -> shapes.CertificateRef | None: ...
def certificate_ref(certificate: Certificate | None) -> shapes.CertificateRef | None:
    if certificate is None:
        return None
    return {"code": certificate.code, "url": certificate_url(certificate.code)}


def certificate_body(certificate: Certificate) -> shapes.Certificate:
    """What a certificate certifies, as snapshotted when it was issued."""
    return {
        "code": certificate.code,
        "url": certificate_url(certificate.code),
        "pdf_url": reverse("certificate-pdf", kwargs={"code": certificate.code}),
        "issued_at": iso(certificate.issued_at),
        "course": {"slug": certificate.course_slug, "title": certificate.course_title},
        "student_name": certificate.student_name,
        "instructors": list(certificate.instructor_names),
    }


def receipt_body(receipt: Receipt) -> shapes.Receipt:
    return {
        "number": receipt.number,
        "issued_at": iso(receipt.issued_at) or "",
        "amount": money(receipt.amount),
        "currency": receipt.currency,
        "coupon": receipt.coupon or None,
        "course": {"slug": receipt.course_slug, "title": receipt.course_title},
        "student": {"name": receipt.student_name, "email": receipt.student_email},
    }


_UNSET = object()


def enrollment_body(
    enrollment: Enrollment,
    *,
    payment: Any = _UNSET,
    certificate: Any = _UNSET,
    instructor_links: list | None = None,
) -> shapes.Enrollment:
    """The contract's `Enrollment`. Expects the annotations of
    enrollment.selectors.enrollments_for_display (completed_lessons, total_lessons);
    payment, certificate and instructor_links may be handed in by a caller that holds
    them."""
    student = enrollment.student
    paid = _payment_of(enrollment) if payment is _UNSET else payment
    # Annotated by the selector (or set by notify.enrollment_payload_held).
    completed, total = enrollment.completed_lessons, enrollment.total_lessons  # type: ignore[attr-defined]
    progress = progress_body(completed=completed, total=total)
    return {
        "id": enrollment.id,
        "number": enrollment.number,
        "status": enrollment.status,
        "course": course_summary(enrollment.course, instructor_links),
        "student": {"id": student.id, "email": student.email, "name": student.name},
        "payment": payment_body(paid),
        "progress": progress,
        "created_at": iso(enrollment.created_at),
        "activated_at": iso(enrollment.activated_at),
        "completed_at": iso(enrollment.completed_at),
        "certificate": certificate_ref(
            _certificate_of(enrollment) if certificate is _UNSET else certificate
        ),
        "refund": refund_body(
            refund_terms(enrollment=enrollment, payment=paid, percent=progress["percent"])
        ),
        "hold_expires_at": iso(enrollment.hold_expires_at)
        if enrollment.status == "pending"
        else None,
    }


def refund_body(terms: RefundTerms | None) -> shapes.RefundTerms | None:
    if terms is None:
        return None
    return {"allowed": terms.allowed, "until": iso(terms.until), "reason": terms.reason}


def enrollment_answer(enrollment: Enrollment) -> shapes.Enrollment:
    """The body an enrollment change answers with: the one its events carried when the
    change built it (as committed), else a fresh read."""
    snapshot = getattr(enrollment, "snapshot", None)
    if snapshot is not None:
        return snapshot
    return enrollment_answer_fresh(enrollment.pk)


def enrollment_answer_fresh(enrollment_id: int) -> shapes.Enrollment:
    return enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment_id))


def lesson_progress_body(enrollment: Enrollment) -> dict[str, Any]:
    """Where the student is in each lesson (GET /api/enrollments/{id}/progress)."""
    rows = selectors.lesson_progress_rows(enrollment_id=enrollment.pk)
    for row in rows:
        row["completed_at"] = iso(row["completed_at"])
    progress = enrollment_body(enrollment)["progress"]
    return {"enrollment": enrollment.pk, "progress": progress, "lessons": rows}
