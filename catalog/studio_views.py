"""The authoring API (the studio pages and any script): GET /api/studio/courses[/{slug}],
GET /api/studio/lessons/{id}, publish/unpublish, modules and lessons one by one, the Markdown
preview, resources and captions. PATCH /api/courses/{slug}, PATCH|DELETE /api/lessons/{id}
and DELETE /api/lessons/{id}/media share their paths with catalog.views.

Authorization: the course's instructors and staff; anyone else gets 404 (a course that is
not yours does not exist for you), the anonymous 401. Every answer about a versioned object
carries `ETag: "<version>"` (catalog.versions).
"""

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import answers, content, curriculum, presenters, selectors, services
from catalog.media import uploads
from catalog.schema import (
    LessonPreviewSchema,
    StudioCourseListSchema,
    StudioCourseSchema,
    StudioLessonSchema,
    StudioModuleSchema,
)
from catalog.serializers import (
    LessonCreateInput,
    LessonPreviewInput,
    LessonResourceInput,
    ModuleCreateInput,
    ModuleUpdateInput,
)
from catalog.versions import EditConflict, conflict_answers, etag_headers, expected_versions
from portal.accounts.models import User
from portal.api import require_user, signed_in_user, validated
from portal.errors import Forbidden
from portal.openapi import documented_error

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH)
MODULE_ID = OpenApiParameter("module_id", int, OpenApiParameter.PATH)
LESSON_ID = OpenApiParameter("lesson_id", int, OpenApiParameter.PATH)
RESOURCE_ID = OpenApiParameter("resource_id", int, OpenApiParameter.PATH)
CAPTION_ID = OpenApiParameter("caption_id", int, OpenApiParameter.PATH)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag ("<version>") the change is based on; like the body\'s `version`: '
    "409 edit_conflict when it is no longer the stored one.",
)
# Studio answers are one author's working copy (and lessons carry signed links).
PRIVATE = {"Cache-Control": "private, no-store"}


def _headers(version: int) -> dict[str, str]:
    return {**PRIVATE, **etag_headers(version)}


def versions_expected(request: Request, data: dict) -> list[int]:
    return expected_versions(
        body_version=data.pop("version", None), if_match=request.headers.get("If-Match")
    )


def _require_author(request: Request) -> User:
    user = require_user(request)
    if not (user.is_instructor or user.is_staff):
        raise Forbidden("Only instructors and staff can use the studio.")
    return user


def course_answer(request: Request, slug: str, *, status_code: int = 200) -> Response:
    body = answers.studio_course_get(slug=slug, user=signed_in_user(request))
    return Response(body, status=status_code, headers=_headers(body["version"]))


def module_answer(request: Request, module_id: int, *, status_code: int = 200) -> Response:
    body = answers.studio_module_get(module_id=module_id, user=signed_in_user(request))
    return Response(body, status=status_code, headers=_headers(body["version"]))


def lesson_answer(request: Request, lesson_id: int, *, status_code: int = 200) -> Response:
    body = answers.studio_lesson_get(
        lesson_id=lesson_id, user=signed_in_user(request), absolute=request.build_absolute_uri
    )
    return Response(body, status=status_code, headers=_headers(body["version"]))


def lesson_current(request: Request, lesson_id: int):
    """The lesson's answer as stored now, for a 409's `current`."""
    return lambda: answers.studio_lesson_get(
        lesson_id=lesson_id, user=signed_in_user(request), absolute=request.build_absolute_uri
    )


class StudioCourseListView(APIView):
    @extend_schema(
        operation_id="studio_courses_list",
        responses={200: StudioCourseListSchema, 403: documented_error(403)},
    )
    def get(self, request: Request) -> Response:
        user = _require_author(request)
        courses = selectors.studio_course_list(user=user)
        body = {"results": [presenters.studio_course_summary(course) for course in courses]}
        return Response(body, headers=PRIVATE)


class StudioCourseView(APIView):
    @extend_schema(
        operation_id="studio_courses_retrieve",
        parameters=[SLUG],
        responses={200: StudioCourseSchema},
    )
    def get(self, request: Request, slug: str) -> Response:
        return course_answer(request, slug)


class CoursePublishView(APIView):
    @extend_schema(
        operation_id="courses_publish",
        parameters=[SLUG],
        request=None,
        responses={200: StudioCourseSchema, 400: documented_error(400)},
    )
    def post(self, request: Request, slug: str) -> Response:
        course = answers.studio_course_editable(slug=slug, user=signed_in_user(request))
        services.course_publish(course=course)
        return course_answer(request, slug)


class CourseUnpublishView(APIView):
    @extend_schema(
        operation_id="courses_unpublish",
        parameters=[SLUG],
        request=None,
        responses={200: StudioCourseSchema},
    )
    def post(self, request: Request, slug: str) -> Response:
        course = answers.studio_course_editable(slug=slug, user=signed_in_user(request))
        services.course_unpublish(course=course)
        return course_answer(request, slug)


class CourseModulesView(APIView):
    @extend_schema(
        operation_id="courses_modules_create",
        parameters=[SLUG],
        request=ModuleCreateInput,
        responses={201: StudioModuleSchema},
    )
    def post(self, request: Request, slug: str) -> Response:
        course = answers.studio_course_editable(slug=slug, user=signed_in_user(request))
        data = validated(ModuleCreateInput, request.data)
        module = curriculum.module_create(
            course=course, title=data["title"], position=data.get("position")
        )
        return module_answer(request, module.pk, status_code=status.HTTP_201_CREATED)


class ModuleDetailView(APIView):
    @extend_schema(
        operation_id="modules_partial_update",
        parameters=[MODULE_ID, IF_MATCH],
        request=ModuleUpdateInput,
        responses={200: StudioModuleSchema, 409: documented_error(409, EditConflict)},
    )
    def patch(self, request: Request, module_id: int) -> Response:
        module = answers.studio_module_editable(module_id=module_id, user=signed_in_user(request))
        data = validated(ModuleUpdateInput, request.data)
        expected = versions_expected(request, data)
        with conflict_answers(
            lambda: answers.studio_module_get(module_id=module_id, user=signed_in_user(request))
        ):
            curriculum.module_update(module=module, data=data, expected=expected)
        return module_answer(request, module_id)

    @extend_schema(
        operation_id="modules_destroy", parameters=[MODULE_ID], request=None, responses={204: None}
    )
    def delete(self, request: Request, module_id: int) -> Response:
        module = answers.studio_module_editable(module_id=module_id, user=signed_in_user(request))
        curriculum.module_delete(module=module)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModuleLessonsView(APIView):
    @extend_schema(
        operation_id="modules_lessons_create",
        parameters=[MODULE_ID],
        request=LessonCreateInput,
        responses={201: StudioLessonSchema},
    )
    def post(self, request: Request, module_id: int) -> Response:
        module = answers.studio_module_editable(module_id=module_id, user=signed_in_user(request))
        data = validated(LessonCreateInput, request.data)
        lesson = curriculum.lesson_create(module=module, data=data)
        return lesson_answer(request, lesson.pk, status_code=status.HTTP_201_CREATED)


class StudioLessonView(APIView):
    @extend_schema(
        operation_id="studio_lessons_retrieve",
        parameters=[LESSON_ID],
        responses={200: StudioLessonSchema},
    )
    def get(self, request: Request, lesson_id: int) -> Response:
        return lesson_answer(request, lesson_id)


class LessonPreviewView(APIView):
    @extend_schema(
        operation_id="lessons_preview",
        request=LessonPreviewInput,
        responses={200: LessonPreviewSchema},
    )
    def post(self, request: Request) -> Response:
        _require_author(request)
        data = validated(LessonPreviewInput, request.data)
        # The very function saving uses: the preview is what students will read.
        return Response({"body_html": content.markdown_render(data["body"])}, headers=PRIVATE)


class LessonResourcesView(APIView):
    """A downloadable file beside a lesson (multipart), for its course's authors."""

    parser_classes = [MultiPartParser]

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before anything parses the form (the session's CSRF check may): the size limit.
        uploads.upload_limits_install(request, resources=True)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="lessons_resources_create",
        parameters=[LESSON_ID],
        request={"multipart/form-data": LessonResourceInput},
        responses={
            201: StudioLessonSchema,
            413: documented_error(413),
            415: documented_error(415),
        },
    )
    def post(self, request: Request, lesson_id: int) -> Response:
        lesson = answers.studio_lesson_editable(lesson_id=lesson_id, user=signed_in_user(request))
        form = request.data  # parsed here, under the upload limit
        if refusal := uploads.upload_refusal(request._request):
            raise refusal
        data = validated(LessonResourceInput, form)
        uploads.lesson_resource_attach(lesson=lesson, file=data["file"], title=data["title"])
        return lesson_answer(request, lesson_id, status_code=status.HTTP_201_CREATED)


class ResourceDetailView(APIView):
    @extend_schema(
        operation_id="resources_destroy",
        parameters=[RESOURCE_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, resource_id: int) -> Response:
        resource = answers.studio_resource_editable(
            resource_id=resource_id, user=signed_in_user(request)
        )
        uploads.lesson_resource_delete(resource=resource)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaptionDetailView(APIView):
    @extend_schema(
        operation_id="captions_destroy",
        parameters=[CAPTION_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, caption_id: int) -> Response:
        caption = answers.studio_caption_editable(
            caption_id=caption_id, user=signed_in_user(request)
        )
        uploads.lesson_caption_delete(caption=caption)
        return Response(status=status.HTTP_204_NO_CONTENT)
