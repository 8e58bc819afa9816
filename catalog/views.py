"""Catalog HTTP API: GET/POST /api/courses, GET/PATCH/DELETE /api/courses/{slug},
GET /api/search, GET/PATCH/DELETE /api/lessons/{id}, POST/DELETE /api/lessons/{id}/media.
The rest of the authoring API is catalog.studio_views."""

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import answers, curriculum, presenters, search, selectors, services, studio_views
from catalog.media import uploads
from catalog.schema import (
    CourseDetailSchema,
    CoursePageSchema,
    LessonSchema,
    SearchResultSchema,
    StudioCourseSchema,
    StudioLessonSchema,
)
from catalog.serializers import (
    CourseCreateInput,
    CourseListQuery,
    CourseUpdateInput,
    LessonMediaInput,
    LessonUpdateInput,
    SearchQuery,
)
from catalog.versions import EditConflict, conflict_answers
from portal.accounts.models import User
from portal.api import require_user, signed_in_user, validated
from portal.errors import Forbidden
from portal.openapi import documented_error
from portal.pagination import page_link

LESSON_ID = OpenApiParameter("lesson_id", int, OpenApiParameter.PATH)
# A lesson answer carries links signed for its reader: no cache may keep or share it.
PRIVATE = {"Cache-Control": "private, no-store"}


def _require_author(request: Request) -> User:
    user = require_user(request)
    if not (user.is_instructor or user.is_staff):
        raise Forbidden("Only instructors and staff can create courses.")
    return user


class CourseListView(APIView):
    @extend_schema(
        operation_id="courses_list", parameters=[CourseListQuery], responses={200: CoursePageSchema}
    )
    def get(self, request: Request) -> Response:
        query = validated(CourseListQuery, request.query_params.dict())
        page = answers.course_page_get(query=query)
        number = query["page"]
        return Response(
            {
                "count": page["count"],
                "next": page_link(request, number + 1 if page["has_next"] else None),
                "previous": page_link(
                    request, min(number - 1, page["last_page"]) if number > 1 else None
                ),
                "results": page["results"],
            }
        )

    @extend_schema(request=CourseCreateInput, responses={201: CourseDetailSchema})
    def post(self, request: Request) -> Response:
        author = _require_author(request)
        data = validated(CourseCreateInput, request.data)
        course = services.course_create(author=author, data=data)
        created = answers.course_visible_get(slug=course.slug, viewer=author)
        return Response(presenters.course_detail(created), status=status.HTTP_201_CREATED)


class CourseDetailView(APIView):
    def _editable_course(self, request: Request, slug: str):
        user = require_user(request)
        course = answers.course_visible_get(slug=slug, viewer=user)
        if not selectors.course_can_edit(course=course, user=user):
            raise Forbidden("Only this course's instructors and staff may change it.")
        return course

    @extend_schema(
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={200: CourseDetailSchema},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(answers.course_detail_get(slug=slug, viewer=signed_in_user(request)))

    @extend_schema(
        parameters=[studio_views.IF_MATCH],
        request=CourseUpdateInput,
        responses={200: StudioCourseSchema, 409: documented_error(409, EditConflict)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        """Change a course's fields; the answer is the studio's view of it (a superset of
        the course's detail), with its new `version`."""
        course = self._editable_course(request, slug)
        serializer = CourseUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = studio_views.versions_expected(request, data)
        with conflict_answers(
            lambda: answers.studio_course_get(slug=slug, user=signed_in_user(request))
        ):
            services.course_update(course=course, data=data, expected=expected)
        return studio_views.course_answer(request, slug)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str) -> Response:
        course = self._editable_course(request, slug)
        services.course_unpublish(course=course)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchView(APIView):
    @extend_schema(
        operation_id="search", parameters=[SearchQuery], responses={200: SearchResultSchema}
    )
    def get(self, request: Request) -> Response:
        params = validated(SearchQuery, request.query_params.dict())
        filters = search.SearchFilters(
            category=params.get("category") or None,
            level=params.get("level") or None,
            max_price=params.get("max_price"),
        )
        body = search.cached_search(
            query=params["q"],
            filters=filters,
            limit=params["limit"],
            offset=params["offset"],
            sort=params["sort"],
        )
        return Response(body)


class LessonDetailView(APIView):
    @extend_schema(
        operation_id="lessons_retrieve",
        parameters=[LESSON_ID],
        # 403: signed in, but neither enrolled nor teaching (the anonymous get 401).
        responses={200: LessonSchema, 403: documented_error(403)},
    )
    def get(self, request: Request, lesson_id: int) -> Response:
        body = answers.lesson_detail_get(
            lesson_id=lesson_id,
            viewer=signed_in_user(request),
            absolute=request.build_absolute_uri,
        )
        return Response(body, headers=PRIVATE)

    @extend_schema(
        operation_id="lessons_partial_update",
        parameters=[LESSON_ID, studio_views.IF_MATCH],
        request=LessonUpdateInput,
        responses={200: StudioLessonSchema, 409: documented_error(409, EditConflict)},
    )
    def patch(self, request: Request, lesson_id: int) -> Response:
        """Edit a lesson, or move it (`position`, `module`): its course's authors (404 to
        anyone else)."""
        lesson = answers.studio_lesson_editable(lesson_id=lesson_id, user=signed_in_user(request))
        data = validated(LessonUpdateInput, request.data)
        expected = studio_views.versions_expected(request, data)
        with conflict_answers(studio_views.lesson_current(request, lesson_id)):
            curriculum.lesson_update(lesson=lesson, data=data, expected=expected)
        return studio_views.lesson_answer(request, lesson_id)

    @extend_schema(
        operation_id="lessons_destroy", parameters=[LESSON_ID], request=None, responses={204: None}
    )
    def delete(self, request: Request, lesson_id: int) -> Response:
        lesson = answers.studio_lesson_editable(lesson_id=lesson_id, user=signed_in_user(request))
        curriculum.lesson_delete(lesson=lesson)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LessonMediaView(APIView):
    """A lesson's video and captions (multipart), for its course's instructors and staff."""

    parser_classes = [MultiPartParser]

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before anything parses the form (the session's CSRF check may): per-file limits.
        uploads.upload_limits_install(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="lessons_media_create",
        parameters=[LESSON_ID],
        request={"multipart/form-data": LessonMediaInput},
        responses={
            201: LessonSchema,
            413: documented_error(413),
            415: documented_error(415),
        },
    )
    def post(self, request: Request, lesson_id: int) -> Response:
        lesson = answers.lesson_editable_get(lesson_id=lesson_id, user=signed_in_user(request))
        form = request.data  # parsed here, under the upload limits
        if refusal := uploads.upload_refusal(request._request):
            raise refusal
        data = validated(LessonMediaInput, form)
        labels = data["caption_label"] or data["caption_lang"]
        lesson = uploads.lesson_media_attach(
            lesson=lesson,
            video=data.get("file"),
            captions=[
                uploads.CaptionUpload(file=file, lang=lang, label=label)
                for file, lang, label in zip(
                    data["captions"], data["caption_lang"], labels, strict=True
                )
            ],
        )
        body = answers.lesson_answer(lesson, absolute=request.build_absolute_uri)
        return Response(body, status=status.HTTP_201_CREATED, headers=PRIVATE)

    @extend_schema(
        operation_id="lessons_media_destroy",
        parameters=[LESSON_ID],
        request=None,
        responses={200: StudioLessonSchema},
    )
    def delete(self, request: Request, lesson_id: int) -> Response:
        """Take the lesson's video and captions away (the studio's lesson answers)."""
        lesson = answers.studio_lesson_editable(lesson_id=lesson_id, user=signed_in_user(request))
        uploads.lesson_media_detach(lesson=lesson)
        return studio_views.lesson_answer(request, lesson_id)
