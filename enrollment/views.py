"""Enrollment HTTP API: each view validates, calls one service or selector and shapes the
answer; refusals are `ApplicationError`s the one exception handler turns into answers."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.coupons import CouponExhausted, CouponInvalid
from catalog.waitlist import OfferExpired
from enrollment import checkout, presenters, reconcile, selectors, services
from enrollment.errors import (
    AlreadyCompleted,
    AlreadyEnrolled,
    CourseFull,
    EnrollmentNotActive,
    HoldExpired,
    NotPending,
    PaymentDeclined,
    PaymentInProgress,
    RefundNotAllowed,
)
from enrollment.models import Payment
from enrollment.payments import InvalidWebhook
from enrollment.payments.webhooks import parse_stripe_event
from enrollment.schema import (
    CertificateSchema,
    EnrollmentPageSchema,
    EnrollmentSchema,
    LessonProgressListSchema,
    ProgressAnswerSchema,
    ReceiptSchema,
    WebhookAnswerSchema,
)
from enrollment.serializers import (
    EnrollmentCreateInput,
    EnrollmentListQuery,
    PayInput,
    ProgressInput,
)
from enrollment.webhook_service import webhook_event_process
from portal.accounts.verification import EmailUnverified
from portal.api import rate_limited, require_user, signed_in_user, validated
from portal.errors import ApplicationError, Unavailable
from portal.idempotency.decorators import idempotency_claim, idempotent
from portal.idempotency.services import idempotency_attach
from portal.openapi import documented_error
from portal.pagination import page_answer
from portal.ratelimit import LimitSet, client_ip


def _decline_limits(request: Request, *, email: str) -> LimitSet:
    """Card testing: declined payments counted per client address, per student email and
    per account; past a limit, paid enrollments are refused before anything is charged."""
    subjects = [("decline_ip", client_ip(request._request)), ("decline", f"email:{email}")]
    if request.user.is_authenticated:
        subjects.append(("decline", f"user:{request.user.pk}"))
    return LimitSet(tuple(subjects))


def _guest_email(data: object) -> str:
    """Who a guest's enrollment body says they are: their Idempotency-Keys are theirs."""
    student = data.get("student") if isinstance(data, dict) else None
    email = student.get("email") if isinstance(student, dict) else None
    return email if isinstance(email, str) else ""


def _enrollment_created(enrollment_id: int) -> Response:
    """The answer to a retry of a request that created this enrollment, then failed."""
    reconcile.enrollment_resume(enrollment_id=enrollment_id)
    body = presenters.enrollment_answer_fresh(enrollment_id)
    return Response(body, status=status.HTTP_201_CREATED)


def _progress_recorded(progress_id: int) -> Response:
    """The answer to a retry of a progress write that was recorded, then failed: the
    lesson's progress as it is now, written nothing again."""
    row = selectors.lesson_progress_get(progress_id=progress_id)
    done, total = selectors.lesson_counts(
        enrollment_id=row.enrollment_id, course_id=row.enrollment.course_id
    )
    percent = presenters.progress_body(completed=done, total=total)["percent"]
    answer = services.ProgressAnswer(
        row.enrollment_id, row.lesson_id, row.completed, row.position_seconds, percent
    )
    return Response(answer.body())


class EnrollmentListCreateView(APIView):
    @extend_schema(
        operation_id="enrollments_list",
        parameters=[EnrollmentListQuery],
        responses={200: EnrollmentPageSchema},
    )
    def get(self, request: Request) -> Response:
        user = require_user(request)
        query = validated(EnrollmentListQuery, request.query_params.dict())
        enrollments = selectors.enrollment_list_for(
            user=user, course_slug=query.get("course"), as_student=query.get("role") == "student"
        )
        page, size = query["page"], query["page_size"]
        present = presenters.enrollment_body
        return Response(page_answer(request, enrollments, page=page, size=size, present=present))

    @extend_schema(
        request=EnrollmentCreateInput,
        responses={
            201: EnrollmentSchema,
            400: documented_error(400, "invalid", CouponInvalid),
            402: documented_error(402),
            403: documented_error(403, EmailUnverified),
            409: documented_error(409, CourseFull, AlreadyEnrolled, CouponExhausted, OfferExpired),
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @rate_limited("enroll_ip")
    @rate_limited("enroll", per_user=True)
    @idempotent(resume=_enrollment_created, guest_identity=_guest_email)
    def post(self, request: Request) -> Response:
        data = validated(EnrollmentCreateInput, request.data)
        claim = idempotency_claim(request)
        user = signed_in_user(request)
        course = selectors.course_for_enrollment(ref=data["course"])
        student = services.enrollment_student_resolve(
            user=user, student=data.get("student"), client=client_ip(request._request)
        )
        # No student named: the signed-in caller enrolls (enrollment_student_resolve).
        email = student.email if student else require_user(request).email
        declines = _decline_limits(request, email=email)
        if not course.is_free:
            declines.check()
        try:
            enrollment = services.enrollment_create(
                course=course,
                student=student,
                user=user,
                payment_method=data.get("payment_method"),
                coupon=(data.get("coupon") or "").strip() or None,
                on_reserved=(lambda made: idempotency_attach(claim, made.pk)) if claim else None,
            )
        except PaymentDeclined:
            declines.count()
            raise
        return Response(presenters.enrollment_answer(enrollment), status=status.HTTP_201_CREATED)


class EnrollmentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: EnrollmentSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_visible_get(
            enrollment_id=enrollment_id, user=require_user(request)
        )
        return Response(presenters.enrollment_body(enrollment))


class EnrollmentCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            200: EnrollmentSchema,
            409: documented_error(409, AlreadyCompleted, RefundNotAllowed),
        },
    )
    def post(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_get_to_change(
            enrollment_id=enrollment_id, user=require_user(request), action="cancel"
        )
        services.enrollment_cancel(enrollment=enrollment)
        return Response(presenters.enrollment_answer_fresh(enrollment.pk))


def _attempt_made(payment_id: int) -> Response:
    """The answer to a retry of a /pay whose attempt was recorded, then failed: its charge
    resent under the attempt's own key (the provider answers with the first outcome)."""
    enrollment_id = Payment.objects.values_list("enrollment_id", flat=True).get(pk=payment_id)
    reconcile.enrollment_resume(enrollment_id=enrollment_id)
    return Response(presenters.enrollment_answer_fresh(enrollment_id))


class EnrollmentPayView(APIView):
    """Another card for an open checkout (a 3-D Secure challenge failed or was not wanted,
    a card declined), within its seat hold. Declines count towards the card-testing limits
    as at checkout."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PayInput,
        responses={
            200: EnrollmentSchema,
            402: documented_error(402),
            409: documented_error(409, HoldExpired, NotPending, PaymentInProgress),
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @rate_limited("enroll", per_user=True)
    @idempotent(resume=_attempt_made)
    def post(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_get_to_change(
            enrollment_id=enrollment_id, user=require_user(request), action="pay"
        )
        data = validated(PayInput, request.data)
        declines = _decline_limits(request, email=enrollment.student.email)
        declines.check()
        claim = idempotency_claim(request)
        try:
            paid = checkout.enrollment_pay(
                enrollment=enrollment,
                payment_method=data["payment_method"],
                on_attempt=(lambda made: idempotency_attach(claim, made.pk)) if claim else None,
            )
        except PaymentDeclined:
            declines.count()
            raise
        return Response(presenters.enrollment_answer_fresh(paid.pk))


class EnrollmentConfirmView(APIView):
    """The page finished the buyer's action (3-D Secure): the charge's state is read from
    the gateway and applied now, whether or not its webhook came first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: EnrollmentSchema})
    @rate_limited("enroll", per_user=True)
    def post(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_get_to_change(
            enrollment_id=enrollment_id, user=require_user(request), action="pay"
        )
        checkout.enrollment_confirm(enrollment=enrollment)
        return Response(presenters.enrollment_answer_fresh(enrollment.pk))


class EnrollmentProgressView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: LessonProgressListSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        """Where the student is in each lesson: to resume on any device."""
        enrollment = selectors.enrollment_visible_get(
            enrollment_id=enrollment_id, user=require_user(request)
        )
        return Response(presenters.lesson_progress_body(enrollment))

    @extend_schema(
        request=ProgressInput,
        responses={200: ProgressAnswerSchema, 409: documented_error(409, EnrollmentNotActive)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @idempotent(resume=_progress_recorded)
    def post(self, request: Request, enrollment_id: int) -> Response:
        """A write queued by a browser while offline is replayed with its Idempotency-Key:
        applied once, however often it is sent."""
        enrollment = selectors.enrollment_get_to_change(
            enrollment_id=enrollment_id, user=require_user(request), action="progress"
        )
        data = validated(ProgressInput, request.data)
        claim = idempotency_claim(request)
        answer = services.progress_record(
            enrollment=enrollment,
            lesson_id=data["lesson"],
            completed=data["completed"],
            position_seconds=data["position_seconds"],
            on_recorded=(lambda row: idempotency_attach(claim, row.pk)) if claim else None,
        )
        return Response(answer.body())


class EnrollmentCertificateView(APIView):
    """The certificate of a completed enrollment, for whoever may read the enrollment (its
    student, the course's instructors, staff); 404 before completion."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CertificateSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_visible_get(
            enrollment_id=enrollment_id, user=require_user(request)
        )
        certificate = selectors.certificate_of_enrollment(enrollment=enrollment)
        return Response(presenters.certificate_body(certificate))


class EnrollmentReceiptView(APIView):
    """The receipt of a paid enrollment, for whoever may read the enrollment (its student,
    the course's instructors, staff); 404 when nothing was paid for it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ReceiptSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        enrollment = selectors.enrollment_visible_get(
            enrollment_id=enrollment_id, user=require_user(request)
        )
        receipt = selectors.receipt_of_enrollment(enrollment=enrollment)
        return Response(presenters.receipt_body(receipt))


class CertificateVerifyView(APIView):
    """Verification: anyone holding a certificate's code reads what it certifies (no
    credentials needed, none looked at)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: CertificateSchema})
    def get(self, request: Request, code: str) -> Response:
        certificate = selectors.certificate_by_code(code=code)
        return Response(presenters.certificate_body(certificate))


class StripeWebhookView(APIView):
    """Stripe events, signature-checked; duplicates and replays change nothing twice."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        request=None,
        responses={200: WebhookAnswerSchema},
        parameters=[
            OpenApiParameter("Stripe-Signature", str, OpenApiParameter.HEADER, required=True)
        ],
    )
    def post(self, request: Request) -> Response:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise Unavailable("Webhooks are not configured (no signing secret).")
        signature = request.headers.get("Stripe-Signature", "")
        try:
            event = parse_stripe_event(request.body, signature, settings.STRIPE_WEBHOOK_SECRET)
        except InvalidWebhook as exc:
            raise ApplicationError(f"Webhook rejected: {exc}") from exc
        outcome = webhook_event_process(event=event)
        return Response({"received": True, "event": event.id, "outcome": outcome})
