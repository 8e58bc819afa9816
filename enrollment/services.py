"""The enrollment pipeline (see docs/architecture.md):

1. validate (the view replays a known Idempotency-Key before calling in here);
2. one short transaction: find or create the student, reserve a seat with one
   conditional UPDATE, create the pending enrollment and its payment, record events;
3. charge through the gateway, outside any transaction and without any row lock held,
   with the payment's own id as the provider's idempotency key;
4. a second transaction applies the outcome (enrollment.transitions);
5. after commit: events are delivered, jobs queued, cached answers retired.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac

from catalog import waitlist
from catalog.coupons import coupon_quote, coupon_redeem
from catalog.models import Course, Lesson
from catalog.seats import course_seat_take
from enrollment import notify, selectors, transitions
from enrollment.errors import (
    AlreadyCompleted,
    AlreadyEnrolled,
    CourseFull,
    EnrollmentNotActive,
    InvalidEnrollment,
    PaymentDeclined,
    PaymentUnavailable,
    RefundNotAllowed,
)
from enrollment.models import (
    ACCESS_STATUSES,
    LIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    Payment,
    PaymentStatus,
    Student,
)
from enrollment.payment_calls import payment_call, refund_call
from enrollment.payments import (
    ChargeResult,
    ChargeStatus,
    GatewayError,
    InvalidPaymentMethod,
    PaymentGateway,
    get_gateway,
)
from enrollment.presenters import progress_body
from enrollment.refunds import refund_terms
from portal.accounts.models import User
from portal.accounts.verification import EmailUnverified

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StudentInput:
    email: str
    name: str
    client: str = ""  # a guest's client address (see Student.guest_key)


def enrollment_number(enrollment_id: int, year: int) -> str:
    return f"ENR-{year}-{enrollment_id:06d}"


def enrollment_student_resolve(
    *, user: User | None, student: dict[str, Any] | None, client: str = ""
) -> StudentInput | None:
    """Who enrolls. Signed in: the caller (None here), unless staff name someone else
    (a guest checkout on their behalf). Anonymous: the named student, as a guest."""
    if user is None or not user.is_authenticated:
        if student is None:
            raise InvalidEnrollment(
                "Sign in or give the student's email and name.",
                {"student": ["This field is required when not signed in."]},
            )
        return StudentInput(**student, client=client)
    if student is not None and student["email"].lower() != user.email.lower():
        if user.is_staff:
            return StudentInput(**student, client=client)
        raise InvalidEnrollment(
            "Signed-in users enroll themselves.",
            {"student.email": ["Leave out the student or use your own email."]},
        )
    return None


def guest_key(client: str) -> str:
    return salted_hmac("enrollment.guest", client).hexdigest()[:32] if client else ""


def student_for(*, student: StudentInput | None, user: User | None) -> Student:
    """The enrolling student: the caller's own record, or the guest record of this address
    from this client (see Student): never an account's, never another client's. It
    carries the name given now, so the answer echoes only what the caller sent."""
    if user is not None and user.is_authenticated:
        record, _ = Student.objects.get_or_create(
            user=user, defaults={"email": user.email.lower(), "name": user.name}
        )
        return record
    assert student is not None, "a guest enrollment names its student"
    record = Student(
        email=student.email.lower(),
        guest_key=guest_key(student.client),
        name=student.name,
        created_at=timezone.now(),
    )
    # One statement (the guest checkout's hot path): the record, made or renamed.
    with connection.cursor() as cursor:
        cursor.execute(
            _GUEST_UPSERT_SQL, [record.email, record.guest_key, record.name, record.created_at]
        )
        record.pk, record.created_at = cursor.fetchone()
    record._state.adding = False
    return record


_GUEST_UPSERT_SQL = (
    f"INSERT INTO {Student._meta.db_table} (email, guest_key, name, created_at, user_id) "  # noqa: S608 - no user input
    "VALUES (%s, %s, %s, %s, NULL) "
    # The conflict target is the student_guest_per_client_unique index.
    "ON CONFLICT (LOWER(email), guest_key) WHERE user_id IS NULL "
    "DO UPDATE SET name = EXCLUDED.name RETURNING id, created_at"
)


def _reserve(
    *,
    course: Course,
    student: Student,
    payment_method: str,
    coupon: str | None = None,
    on_reserved: Callable[[Enrollment], None] | None = None,
) -> tuple[Enrollment, Payment | None]:
    """Step 2, in the caller's transaction. The enrollment row goes in first, so a
    duplicate fails before the course row is touched; the seat UPDATE then holds the
    course row lock only until the commit. A coupon's use is counted here too (its row
    lock, taken before the course's by every checkout with a coupon, so they cannot
    deadlock), and given back if this rolls back. `on_reserved` runs before the seat is
    taken, for the same reason."""
    # enrollment_one_live_per_student_course refuses a second live enrollment.
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                number=f"tmp-{get_random_string(24)}", student=student, course=course
            )
    except IntegrityError as exc:  # a concurrent request of the same student won
        raise AlreadyEnrolled("You are already enrolled in this course.") from exc
    enrollment.number = enrollment_number(enrollment.pk, enrollment.created_at.year)
    quote = coupon_redeem(course=course, code=coupon) if coupon and not course.is_free else None
    amount = quote.amount if quote is not None else course.price
    update = ["number"]
    if amount > 0:  # a checkout holds its seat for so long, then lets it go
        enrollment.hold_expires_at = enrollment.created_at + checkout_hold()
        update.append("hold_expires_at")
    enrollment.save(update_fields=update)
    if on_reserved is not None:  # what it records commits with the reservation
        on_reserved(enrollment)
    payment = None
    if not course.is_free:
        payment = Payment.objects.create(
            enrollment=enrollment,
            amount=amount,
            list_price=course.price,
            currency=course.currency,
            provider=get_gateway().name,
            payment_method=payment_method if amount > 0 else "",
            coupon_id=quote.coupon_id if quote is not None else None,
            coupon_code=quote.code if quote is not None else "",
        )
    # Built before the seat is taken, so the course row stays locked only from the seat
    # UPDATE to the commit. A guest has no socket to tell.
    body = notify.enrollment_payload(enrollment.pk) if student.user_id else None
    seats_taken = _seat_take(enrollment, course, student)
    if body is not None:
        if seats_taken is not None:
            body["course"]["seats_taken"] = seats_taken
        notify.publish_status(enrollment, body)
    return enrollment, payment


def _seat_take(enrollment: Enrollment, course: Course, student: Student) -> int | None:
    """The enrollment's seat: the one a waitlist offer holds for its student (None: the
    count did not move), else a free one (the new count; its student's place in the
    line then ends). Refusals roll the reservation back: 409 `offer_expired` to a
    student whose offer ran out, `course_full` otherwise."""
    user_id = student.user_id
    claim = (
        waitlist.offer_use(course_id=course.pk, user_id=user_id, enrollment_id=enrollment.pk)
        if user_id is not None and course.capacity is not None
        else None
    )
    if claim is not None and claim.use is waitlist.OfferUse.USED:
        return None
    seats = course_seat_take(course_id=course.pk)
    if seats is None:
        if claim is not None and claim.use is waitlist.OfferUse.LAPSED:
            raise waitlist.OfferExpired()
        raise CourseFull("This course is full.")
    if claim is not None and claim.use is waitlist.OfferUse.WAITING and claim.entry_id:
        waitlist.line_leave_enrolled(
            entry_id=claim.entry_id,
            course_id=course.pk,
            slug=course.slug,
            enrollment_id=enrollment.pk,
        )
    return seats.seats_taken


def checkout_hold() -> timedelta:
    return timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)


def charge_key(payment: Payment) -> str:
    """The provider idempotency key of the payment's current attempt (each card tried on
    a checkout is charged under its own key; a resend of one attempt reuses it)."""
    return (
        f"payment-{payment.pk}"
        if payment.attempt <= 1
        else f"payment-{payment.pk}-{payment.attempt}"
    )


def charge(gateway: PaymentGateway, payment: Payment) -> ChargeResult:
    """Step 3: no transaction is open here, so no lock is held across the network call.

    The provider refusing the input itself (an unknown `pm_…`) raises InvalidPaymentMethod:
    nothing was charged and nothing ever will be, so it must not hold a seat as "unknown"."""
    key = charge_key(payment)
    try:
        return payment_call(
            payment=payment,
            kind="charge",
            idempotency_key=key,
            call=lambda: gateway.charge(
                amount=payment.amount,
                currency=payment.currency,
                payment_method=payment.payment_method,
                idempotency_key=key,
                description=f"Enrollment {payment.enrollment.number}",
                metadata={"payment_id": str(payment.pk), "enrollment": payment.enrollment.number},
            ),
        )
    except InvalidPaymentMethod:
        raise
    except Exception:
        # The outcome is unknown; the enrollment stays pending for webhook/reconcile.
        log.exception("payment.charge_error", payment=payment.pk)
        return ChargeResult(ChargeStatus.UNKNOWN)


def payment_method_refused(
    *, enrollment_id: int, error: InvalidPaymentMethod, keep_open: bool = False
) -> None:
    """The provider refused the payment method: end the enrollment and release its seat
    (shared with reconciliation, which may meet such payments left pending), or, on a
    checkout the buyer holds (`keep_open`), record the failure for another card."""
    message = str(error) or "Unknown payment method."
    transitions.fail(
        enrollment_id=enrollment_id,
        reason=f"Invalid payment method: {message}",
        keep_open=keep_open,
    )


GENERIC_DECLINE = "Your card was declined."


def apply_charge_result(
    *,
    enrollment_id: int,
    result: ChargeResult,
    reveal_decline: bool = True,
    keep_open: bool = True,
) -> Enrollment:
    """Step 4, shared with reconciliation, `/pay` and confirm. `reveal_decline` False
    answers a decline without the provider's code and message (`stolen_card`, "incorrect
    CVC"): they would tell a card tester which stolen numbers are live. The payment record
    keeps them. `keep_open` (transitions.fail): a decline on a checkout the buyer already
    holds leaves it pending for another card while its hold lasts; only the first charge
    of POST /api/enrollments ends it at once (its 402 leaves nothing behind)."""
    if result.status == ChargeStatus.SUCCEEDED:
        return transitions.activate(enrollment_id=enrollment_id, reference=result.reference)
    if result.status == ChargeStatus.DECLINED:
        reason = result.failure_message or "The payment was declined."
        transitions.fail(
            enrollment_id=enrollment_id,
            reason=reason,
            reference=result.reference,
            keep_open=keep_open,
        )
        if not reveal_decline:
            raise PaymentDeclined(GENERIC_DECLINE, enrollment_id=enrollment_id)
        raise PaymentDeclined(reason, enrollment_id=enrollment_id, decline_code=result.failure_code)
    action = result.next_action
    return transitions.await_action(
        enrollment_id=enrollment_id,
        reference=result.reference,
        unknown=result.status == ChargeStatus.UNKNOWN,
        next_action=asdict(action) if action is not None else None,
    )


def enrollment_create(
    *,
    course: Course,
    student: StudentInput | None,
    user: User | None,
    payment_method: str | None,
    coupon: str | None = None,
    on_reserved: Callable[[Enrollment], None] | None = None,
) -> Enrollment:
    """Enroll a student. Raises an ApplicationError subclass for every refusal.

    A coupon is checked before anything is written (400 `coupon_invalid`, 409
    `coupon_exhausted`) and its use counted with the reservation; one that takes the
    whole price makes the course free: no card, nothing charged."""
    gateway = get_gateway()
    quote = coupon_quote(course=course, code=coupon) if coupon else None
    paying = not course.is_free and not (quote is not None and quote.amount <= 0)
    buyer = user if student is None and user is not None and user.is_authenticated else None
    if paying and buyer is not None and not buyer.email_verified:
        raise EmailUnverified(
            f"Confirm your email address before buying a course: we sent a link to {buyer.email}."
        )
    if paying:
        if not payment_method:
            raise InvalidEnrollment(
                "A payment method is required for a paid course.",
                {"payment_method": ["This field is required for a paid course."]},
            )
        try:
            gateway.validate_payment_method(payment_method)
        except InvalidPaymentMethod as exc:
            raise InvalidEnrollment(str(exc), {"payment_method": [str(exc)]}) from exc
    with transaction.atomic():
        record = student_for(student=student, user=user)
        enrollment, payment = _reserve(
            course=course,
            student=record,
            payment_method=payment_method or "",
            coupon=coupon,
            on_reserved=on_reserved,
        )
    if payment is None or payment.amount <= 0:  # free, or made free by a coupon
        return transitions.activate(enrollment_id=enrollment.pk)
    try:
        result = charge(gateway, payment)
    except InvalidPaymentMethod as exc:
        payment_method_refused(enrollment_id=enrollment.pk, error=exc)
        message = str(exc) or "Unknown payment method."
        raise InvalidEnrollment(message, {"payment_method": [message]}) from exc
    # Only a signed-in student paying for themselves learns why their card was declined.
    own_card = student is None and user is not None and user.is_authenticated
    return apply_charge_result(
        enrollment_id=enrollment.pk, result=result, reveal_decline=own_card, keep_open=False
    )


def enrollment_cancel(*, enrollment: Enrollment, outside_policy: bool = False) -> Enrollment:
    """Cancel (free or unpaid) or refund (paid) an enrollment; its seat is released.

    A paid one is refunded only under its course's refund rule (enrollment.refunds: 409
    `refund_not_allowed` outside it) unless `outside_policy` (staff, from the admin). A
    completed enrollment is neither cancelled nor refunded: its student used every lesson
    (`refund_not_allowed` when paid, `already_completed` when free), so its completion and
    certificate are never undone from here. cancel_unpaid checks again under the row lock."""
    payment = Payment.objects.filter(enrollment=enrollment).first()
    # Made free by a coupon, it has nothing to refund: it is left like a free enrollment.
    paid = payment is not None and payment.status == PaymentStatus.SUCCEEDED and payment.amount > 0
    status = Enrollment.objects.values_list("status", flat=True).get(pk=enrollment.pk)
    if status == EnrollmentStatus.COMPLETED:
        if paid:
            raise RefundNotAllowed("A completed course is not refunded.")
        raise AlreadyCompleted("A completed enrollment cannot be cancelled.")
    if paid and not outside_policy:
        completed, total = selectors.lesson_counts(
            enrollment_id=enrollment.pk, course_id=enrollment.course_id
        )
        percent = progress_body(completed=completed, total=total)["percent"]
        terms = refund_terms(enrollment=enrollment, payment=payment, percent=percent)
        if terms is not None and not terms.allowed:
            raise RefundNotAllowed(terms.reason)
    if payment is None or not paid:
        return transitions.cancel_unpaid(enrollment_id=enrollment.pk)
    if enrollment.status not in LIVE_STATUSES:
        return enrollment
    try:
        refund = refund_call(payment)
    except GatewayError as exc:
        raise PaymentUnavailable("The refund could not be processed now; try again.") from exc
    if not refund.succeeded:
        raise PaymentUnavailable(refund.failure_message or "The refund was not accepted.")
    return transitions.refund(enrollment_id=enrollment.pk)


@dataclass(frozen=True)
class ProgressAnswer:
    enrollment: int
    lesson: int
    completed: bool
    position_seconds: int
    percent: float

    def body(self) -> dict[str, Any]:
        return {
            "enrollment": self.enrollment,
            "lesson": self.lesson,
            "completed": self.completed,
            "position_seconds": self.position_seconds,
            "percent": self.percent,
        }


@transaction.atomic
def progress_record(
    *,
    enrollment: Enrollment,
    lesson_id: int,
    completed: bool | None,
    position_seconds: int | None,
    on_recorded: Callable[[LessonProgress], None] | None = None,
) -> ProgressAnswer:
    """Record a lesson's progress; the student's open tabs get `progress.updated`.

    The write that leaves no lesson of the course uncompleted completes the enrollment, in
    this transaction (transitions.complete: status, certificate, events). A completed
    enrollment still records progress (the student reviews); it stays completed whatever
    the percent does later (a lesson unticked, or added to the course).
    `on_recorded(row)` runs in the same transaction (the view attaches its Idempotency-Key
    claim to the row, so a retry of a request that died after commit writes nothing)."""
    if not Lesson.objects.filter(pk=lesson_id, module__course_id=enrollment.course_id).exists():
        raise InvalidEnrollment(
            "That lesson is not part of this course.", {"lesson": ["Not a lesson of this course."]}
        )
    current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if current.status not in ACCESS_STATUSES:
        raise EnrollmentNotActive("Progress can only be recorded on an active enrollment.")
    progress, _ = LessonProgress.objects.get_or_create(enrollment=current, lesson_id=lesson_id)
    if completed is not None and completed != progress.completed:
        progress.completed = completed
        progress.completed_at = timezone.now() if completed else None
    if position_seconds is not None:
        progress.position_seconds = position_seconds
    progress.save()
    if on_recorded is not None:
        on_recorded(progress)
    done = LessonProgress.objects.filter(enrollment=current, completed=True).count()
    total = Lesson.objects.filter(module__course_id=current.course_id).count()
    percent = progress_body(completed=done, total=total)["percent"]
    notify.publish_progress(enrollment=enrollment, progress=progress, completed=done, total=total)
    if current.status == EnrollmentStatus.ACTIVE and total and done >= total:
        transitions.complete(enrollment_id=current.pk)
    return ProgressAnswer(
        current.pk, lesson_id, progress.completed, progress.position_seconds, percent
    )


def finished_enrollments_complete(*, course_id: int) -> int:
    """Complete the active enrollments of a course whose students have completed every lesson
    it has now (a lesson they had not done was deleted). Each in its own transaction; one
    already completed (by a progress write meanwhile, or an earlier run) is left as it is.
    Returns how many this run completed."""
    total = Lesson.objects.filter(module__course_id=course_id).count()
    if not total:
        return 0
    finished = (
        Enrollment.objects.filter(course_id=course_id, status=EnrollmentStatus.ACTIVE)
        .annotate(done=Count("progress", filter=Q(progress__completed=True)))
        .filter(done__gte=total)
        .values_list("pk", flat=True)
    )
    return sum(
        transitions.complete(enrollment_id=enrollment_id) is not None
        for enrollment_id in list(finished)
    )
