"""A course's waitlist over HTTP: POST|DELETE|GET /api/courses/{slug}/waitlist.

Signed in only (401). Joining needs a verified address (the offer is mailed to it: 403
`email_unverified`) and a full course (409 `course_not_full`), and is refused to a student
already enrolled (409 `already_enrolled`). GET answers the caller's place, or to the
course's instructors and staff the whole line. The rules are catalog.waitlist; this
module lives with enrollment because "already enrolled" is enrollment's to say."""

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog import waitlist
from catalog.models import Course
from catalog.studio_views import SLUG
from catalog.waitlist import CourseNotFull, NotInWaitlist
from enrollment.errors import AlreadyEnrolled
from enrollment.models import LIVE_STATUSES, Enrollment
from enrollment.schema import WaitlistLineSchema, WaitlistPlaceSchema, WaitlistPlacesSchema
from portal.accounts.models import User
from portal.accounts.verification import EmailUnverified
from portal.api import rate_limited, require_user
from portal.errors import NotFound
from portal.openapi import documented_error

NO_STORE = {"Cache-Control": "private, no-store"}


def _course(slug: str, user: User) -> Course:
    course = catalog_selectors.course_visible_get(slug=slug, viewer=user)
    if course is None or course.published_at is None:
        raise NotFound("No such course.")
    return course


def _teaches(course: Course, user: User) -> bool:
    return user.is_staff or catalog_selectors.course_is_taught_by(course=course, user=user)


class CourseWaitlistView(APIView):
    @extend_schema(
        operation_id="courses_waitlist_get",
        parameters=[SLUG],
        responses={
            200: PolymorphicProxySerializer(
                component_name="WaitlistAnswer",
                serializers=[WaitlistPlaceSchema, WaitlistLineSchema],
                resource_type_field_name=None,
            ),
            401: documented_error(401),
            404: documented_error(404, "not_found", NotInWaitlist),
        },
        description="The caller's place; to the course's instructors and staff, the whole "
        "line (`WaitlistLine`).",
    )
    def get(self, request: Request, slug: str) -> Response:
        user = require_user(request)
        course = _course(slug, user)
        if _teaches(course, user):
            rows = waitlist.line_list(course=course)
            body = {
                "course": course.slug,
                "capacity": course.capacity,
                "seats_taken": course.seats_taken,
                "waiting": sum(row["status"] == "waiting" for row in rows),
                "offered": sum(row["status"] == "offered" for row in rows),
                "results": rows,
            }
            return Response(body, headers=NO_STORE)
        return Response(waitlist.place_get(course=course, user=user).body(), headers=NO_STORE)

    @extend_schema(
        operation_id="courses_waitlist_join",
        parameters=[SLUG],
        request=None,
        responses={
            200: WaitlistPlaceSchema,
            201: WaitlistPlaceSchema,
            401: documented_error(401),
            403: documented_error(403, "forbidden", EmailUnverified),
            404: documented_error(404),
            409: documented_error(409, AlreadyEnrolled, CourseNotFull),
        },
        description="Join a full course's waitlist (201); joining again answers the place "
        "held (200).",
    )
    @rate_limited("waitlist", per_user=True)
    def post(self, request: Request, slug: str) -> Response:
        user = require_user(request)
        course = _course(slug, user)
        if not user.email_verified:
            raise EmailUnverified(
                "Confirm your email address before joining a waitlist: your seat offer will "
                f"be sent to {user.email}."
            )
        if Enrollment.objects.filter(
            student__user=user, course=course, status__in=LIVE_STATUSES
        ).exists():
            raise AlreadyEnrolled("You are already enrolled in this course.")
        place, created = waitlist.waitlist_join(course=course, user=user)
        return Response(
            place.body(),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers=NO_STORE,
        )

    @extend_schema(
        operation_id="courses_waitlist_leave",
        parameters=[SLUG],
        request=None,
        responses={
            204: None,
            401: documented_error(401),
            404: documented_error(404, "not_found", NotInWaitlist),
        },
    )
    @rate_limited("waitlist", per_user=True)
    def delete(self, request: Request, slug: str) -> Response:
        user = require_user(request)
        waitlist.waitlist_leave(course=_course(slug, user), user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyWaitlistView(APIView):
    @extend_schema(
        operation_id="me_waitlist",
        parameters=[
            OpenApiParameter("course", str, description="Only this course's place (a slug).")
        ],
        responses={200: WaitlistPlacesSchema, 401: documented_error(401)},
        description="The caller's places in waitlists and the seat offers they hold.",
    )
    def get(self, request: Request) -> Response:
        user = require_user(request)
        course = request.query_params.get("course")
        places = waitlist.places_of(user=user, course_slug=course if course else None)
        return Response({"results": [place.body() for place in places]}, headers=NO_STORE)
