"""Instructor tools HTTP API: revenue, enrollments per hour, the roster as CSV and
announcements. Each view validates, calls one selector or service and shapes the answer;
a course that is not the caller's answers 404 (it does not exist for them)."""

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Course
from instructor import presenters, roster, selectors, services
from instructor.schema import (
    AnnouncementQueuedSchema,
    EnrollmentsPerHourSchema,
    RevenueSchema,
    SeatsBoardSchema,
)
from instructor.serializers import AnnouncementInput, EnrollmentsPerHourQuery
from portal.api import require_user, validated
from portal.errors import NotFound
from portal.openapi import documented_error
from portal.ratelimit import subject_hit

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH)
# What require_teacher answers a student (the anonymous get 401).
NOT_A_TEACHER = {404: documented_error(404)}


def require_teacher(request: Request):
    """Instructors and staff; a student asking gets 404 like any course not theirs."""
    user = require_user(request)
    if not (user.is_instructor or user.is_staff):
        raise NotFound("No such page for this account.")
    return user


class RevenueView(APIView):
    @extend_schema(
        operation_id="instructor_revenue", responses={200: RevenueSchema, **NOT_A_TEACHER}
    )
    def get(self, request: Request) -> Response:
        user = require_teacher(request)
        return Response(presenters.revenue_body(selectors.revenue_report(user=user)))


class SeatsBoardView(APIView):
    """Seats and waitlists of the caller's published courses (the dashboard's board; live
    afterwards through `course.seats` and `course.waitlist` to watchers)."""

    @extend_schema(
        operation_id="instructor_seats", responses={200: SeatsBoardSchema, **NOT_A_TEACHER}
    )
    def get(self, request: Request) -> Response:
        user = require_teacher(request)
        return Response(
            {"courses": selectors.seats_board(user=user)},
            headers={"Cache-Control": "private, no-store"},
        )


class EnrollmentsPerHourView(APIView):
    @extend_schema(
        operation_id="instructor_enrollments_per_hour",
        parameters=[EnrollmentsPerHourQuery],
        responses={200: EnrollmentsPerHourSchema, **NOT_A_TEACHER},
    )
    def get(self, request: Request) -> Response:
        user = require_teacher(request)
        query = validated(EnrollmentsPerHourQuery, request.query_params.dict())
        slug = query.get("course")
        if slug:
            course = selectors.course_for_instructor(slug=slug, user=user)
            courses = Course.objects.filter(pk=course.pk)
        else:
            courses = selectors.taught_courses(user)
        buckets = selectors.enrollments_per_hour(courses=courses, hours=query["hours"])
        return Response(
            presenters.per_hour_body(hours=query["hours"], course=slug, buckets=buckets)
        )


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the CSV itself is streamed."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return JSONRenderer().render(data)  # an error answer, before any CSV was sent


class RosterCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="course_roster_csv",
        parameters=[SLUG],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="The roster, one enrollment a line, oldest first: "
                + ", ".join(roster.HEADER)
                + ". Streamed (no Content-Length).",
            )
        },
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        user = require_teacher(request)
        course = selectors.course_for_instructor(slug=slug, user=user)
        chunks = roster.roster_csv_chunks(course=course)
        asgi = isinstance(request._request, ASGIRequest)
        response = StreamingHttpResponse(
            roster.aiter_chunks(chunks) if asgi else chunks,
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{roster.roster_filename(course)}"'
        response["Cache-Control"] = "private, no-store"
        return response


class AnnouncementCreateView(APIView):
    @extend_schema(
        operation_id="course_announcement_create",
        parameters=[SLUG],
        request=AnnouncementInput,
        responses={202: AnnouncementQueuedSchema, 429: documented_error(429)},
    )
    def post(self, request: Request, slug: str) -> Response:
        user = require_teacher(request)
        course = selectors.course_for_instructor(slug=slug, user=user)
        data = validated(AnnouncementInput, request.data)
        # Counted per instructor once the request is valid: a typo does not use the quota.
        subject_hit("announce", f"user:{user.pk}")
        announcement = services.announcement_create(
            course=course, author=user, subject=data["subject"], body=data["body"]
        )
        return Response(presenters.announcement_body(announcement), status=status.HTTP_202_ACCEPTED)
