"""Enrollment HTTP API: thin views that validate, call one service and shape the answer."""

from typing import Any

import structlog
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Course
from enrollment import idempotency, presenters, selectors, services
from enrollment.errors import EnrollmentError, InvalidEnrollment
from enrollment.models import Enrollment
from enrollment.payments import InvalidWebhook
from enrollment.schema import (
    EnrollmentPageSchema,
    EnrollmentSchema,
    LessonProgressListSchema,
    ProgressAnswerSchema,
    WebhookAnswerSchema,
)
from enrollment.serializers import EnrollmentCreateInput, EnrollmentListQuery, ProgressInput
from enrollment.webhook_service import webhook_event_process
from portal.errors import ApiError, error_body
from portal.pagination import page_link
from portal.ratelimit import rate_limit

log = structlog.get_logger(__name__)


def _error_answer(exc: EnrollmentError) -> tuple[int, dict[str, Any]]:
    body = error_body(exc.code, exc.message, exc.fields)
    if getattr(exc, "enrollment_id", None):
        body["error"]["enrollment"] = exc.enrollment_id
    if getattr(exc, "decline_code", ""):
        body["error"]["decline_code"] = exc.decline_code
    return exc.status_code, body


def _enrollment_answer(enrollment_id: int) -> dict[str, Any]:
    return presenters.enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment_id))


def _resolve_course(ref: int | str) -> Course:
    lookup = {"pk": ref} if isinstance(ref, int) else {"slug": ref}
    course = Course.objects.filter(published_at__isnull=False, **lookup).first()
    if course is None:
        raise InvalidEnrollment("No such course.", {"course": ["No such course."]})
    return course


def _student_input(request: Request, data: dict) -> services.StudentInput | None:
    student = data.get("student")
    user = request.user
    if not user.is_authenticated:
        if student is None:
            raise InvalidEnrollment(
                "Sign in or give the student's email and name.",
                {"student": ["This field is required when not signed in."]},
            )
        return services.StudentInput(**student)
    if student is not None and student["email"].lower() != user.email.lower():
        if user.is_staff:  # staff may enroll someone else, as a guest checkout
            return services.StudentInput(**student)
        raise InvalidEnrollment(
            "Signed-in users enroll themselves.",
            {"student.email": ["Leave out the student or use your own email."]},
        )
    return None


class EnrollmentListCreateView(APIView):
    @extend_schema(
        operation_id="enrollments_list",
        parameters=[EnrollmentListQuery],
        responses={200: EnrollmentPageSchema},
    )
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise ApiError(
                401, "not_authenticated", "Authentication credentials were not provided."
            )
        query_input = EnrollmentListQuery(data=request.query_params.dict())
        query_input.is_valid(raise_exception=True)
        query = query_input.validated_data
        queryset = selectors.enrollment_list_for(
            user=request.user,
            course_slug=query.get("course"),
            as_student=query.get("role") == "student",
        )
        page, size = query["page"], query["page_size"]
        count = queryset.count()
        items = list(queryset[(page - 1) * size : page * size])
        return Response(
            {
                "count": count,
                "next": page_link(request, page + 1 if page * size < count else None),
                "previous": page_link(request, page - 1 if page > 1 else None),
                "results": [presenters.enrollment_body(item) for item in items],
            }
        )

    @extend_schema(
        request=EnrollmentCreateInput,
        responses={201: EnrollmentSchema},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        ident = str(request.user.pk) if request.user.is_authenticated else ""
        rate_limit(request._request, "enroll", ident=ident)
        serializer = EnrollmentCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise ApiError(400, "invalid", "Idempotency-Key is too long (255 at most).")
        try:
            course = _resolve_course(data["course"])
            student = _student_input(request, data)
        except EnrollmentError as exc:
            status_code, body = _error_answer(exc)
            return Response(body, status=status_code)
        if not key:
            status_code, body = self._enroll(request, course, student, data, claim=None)
            return Response(body, status=status_code)

        scope = f"user:{request.user.pk}" if request.user.is_authenticated else "guest"
        try:
            claim = idempotency.idempotency_begin(
                key=key, scope=scope, digest=idempotency.fingerprint(request.data)
            )
        except EnrollmentError as exc:
            status_code, body = _error_answer(exc)
            return Response(body, status=status_code)
        if isinstance(claim, idempotency.Replay):
            return Response(
                claim.body, status=claim.status, headers={"Idempotent-Replayed": "true"}
            )
        try:
            if claim.enrollment_id:  # taking over from a request that died mid-way
                status_code, body = status.HTTP_201_CREATED, _enrollment_answer(claim.enrollment_id)
            else:
                status_code, body = self._enroll(request, course, student, data, claim=claim)
        except BaseException:
            idempotency.idempotency_release(claim)
            raise
        idempotency.idempotency_complete(claim, status_code, body)
        return Response(body, status=status_code)

    def _enroll(self, request, course, student, data, *, claim) -> tuple[int, dict[str, Any]]:
        def remember(enrollment: Enrollment) -> None:
            if claim is not None:
                idempotency.idempotency_attach(claim, enrollment.pk)

        try:
            enrollment = services.enrollment_create(
                course=course,
                student=student,
                user=request.user if request.user.is_authenticated else None,
                payment_method=data.get("payment_method"),
                on_reserved=remember,
            )
        except EnrollmentError as exc:
            return _error_answer(exc)
        body = getattr(enrollment, "snapshot", None) or _enrollment_answer(enrollment.pk)
        return status.HTTP_201_CREATED, body


def _visible_enrollment(request: Request, enrollment_id: int) -> Enrollment:
    enrollment = selectors.enrollment_get_for(enrollment_id=enrollment_id, user=request.user)
    if enrollment is None:
        raise ApiError(404, "not_found", "No such enrollment.")
    return enrollment


def _raise(exc: EnrollmentError) -> None:
    status_code, body = _error_answer(exc)
    error = body["error"]
    raise ApiError(status_code, error["code"], error["message"], error.get("fields")) from exc


class EnrollmentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: EnrollmentSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        return Response(presenters.enrollment_body(_visible_enrollment(request, enrollment_id)))


class EnrollmentCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: EnrollmentSchema})
    def post(self, request: Request, enrollment_id: int) -> Response:
        enrollment = _visible_enrollment(request, enrollment_id)
        if not (request.user.is_staff or enrollment.student.user_id == request.user.pk):
            raise ApiError(
                403, "forbidden", "Only the enrollment's student or staff may cancel it."
            )
        try:
            services.enrollment_cancel(enrollment=enrollment)
        except EnrollmentError as exc:
            _raise(exc)
        return Response(_enrollment_answer(enrollment.pk))


class EnrollmentProgressView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: LessonProgressListSchema})
    def get(self, request: Request, enrollment_id: int) -> Response:
        """Where the student is in each lesson: to resume on any device."""
        enrollment = _visible_enrollment(request, enrollment_id)
        rows = selectors.lesson_progress_rows(enrollment_id=enrollment.pk)
        for row in rows:
            row["completed_at"] = presenters.iso(row["completed_at"])
        body = presenters.enrollment_body(enrollment)
        return Response(
            {"enrollment": enrollment.pk, "progress": body["progress"], "lessons": rows}
        )

    @extend_schema(request=ProgressInput, responses={200: ProgressAnswerSchema})
    def post(self, request: Request, enrollment_id: int) -> Response:
        enrollment = _visible_enrollment(request, enrollment_id)
        if enrollment.student.user_id != request.user.pk:
            raise ApiError(403, "forbidden", "Only the enrollment's student may record progress.")
        serializer = ProgressInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            answer = services.progress_record(
                enrollment=enrollment,
                lesson_id=serializer.validated_data["lesson"],
                completed=serializer.validated_data["completed"],
                position_seconds=serializer.validated_data["position_seconds"],
            )
        except EnrollmentError as exc:
            _raise(exc)
        return Response(
            {
                "enrollment": answer.enrollment,
                "lesson": answer.lesson,
                "completed": answer.completed,
                "position_seconds": answer.position_seconds,
                "percent": answer.percent,
            }
        )


class StripeWebhookView(APIView):
    """Stripe events, signature-checked; duplicates and replays change nothing twice."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(request=None, responses={200: WebhookAnswerSchema})
    def post(self, request: Request) -> Response:
        from enrollment.payments.webhooks import parse_stripe_event

        if not settings.STRIPE_WEBHOOK_SECRET:
            raise ApiError(503, "unavailable", "Webhooks are not configured (no signing secret).")
        try:
            event = parse_stripe_event(
                request.body,
                request.headers.get("Stripe-Signature", ""),
                settings.STRIPE_WEBHOOK_SECRET,
            )
        except InvalidWebhook as exc:
            raise ApiError(400, "invalid", f"Webhook rejected: {exc}") from exc
        outcome = webhook_event_process(event=event)
        return Response({"received": True, "event": event.id, "outcome": outcome})
