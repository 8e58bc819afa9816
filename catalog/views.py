"""Catalog HTTP API: GET/POST /api/courses, GET/PATCH/DELETE /api/courses/{slug},
GET /api/search."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import cache as catalog_cache
from catalog import presenters, search, selectors, services
from catalog.schema import CourseDetailSchema, CoursePageSchema, SearchResultSchema
from catalog.serializers import (
    CourseCreateInput,
    CourseListQuery,
    CourseUpdateInput,
    SearchQuery,
)
from portal.errors import Forbidden, NotAuthenticated, NotFound
from portal.pagination import page_link


def _course_page(query: dict[str, Any]) -> dict[str, Any]:
    """One page of the catalog, as cacheable data (links are added per request)."""
    filters = selectors.CourseFilters(
        category=query.get("category") or None,
        level=query.get("level") or None,
        min_price=query.get("min_price"),
        max_price=query.get("max_price"),
        instructor=query.get("instructor"),
    )
    queryset = selectors.course_list(filters=filters, sort=query["sort"])
    page, size = query["page"], query["page_size"]
    count = queryset.count()
    offset = (page - 1) * size
    # Past the end: no query (an offset beyond bigint would fail in the database).
    courses = list(queryset[offset : offset + size]) if offset < count else []
    return {
        "count": count,
        "results": [presenters.course_summary(course) for course in courses],
        "has_next": page * size < count,
        "last_page": max(1, -(-count // size)),
    }


def _require_author(request: Request) -> None:
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated("Authentication credentials were not provided.")
    if not (user.is_instructor or user.is_staff):
        raise Forbidden("Only instructors and staff can create courses.")


class CourseListView(APIView):
    @extend_schema(
        operation_id="courses_list", parameters=[CourseListQuery], responses={200: CoursePageSchema}
    )
    def get(self, request: Request) -> Response:
        query_input = CourseListQuery(data=request.query_params.dict())
        query_input.is_valid(raise_exception=True)
        query = query_input.validated_data
        cache_key = catalog_cache.list_key({key: str(value) for key, value in query.items()})
        page = catalog_cache.get(cache_key)
        if page is None:
            page = _course_page(query)
            catalog_cache.set_list(cache_key, page)
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
        _require_author(request)
        serializer = CourseCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(author=request.user, data=serializer.validated_data)
        created = selectors.course_get(slug=course.slug, viewer=request.user)
        return Response(presenters.course_detail(created), status=status.HTTP_201_CREATED)


class CourseDetailView(APIView):
    def _visible_course(self, request: Request, slug: str):
        course = selectors.course_get(slug=slug, viewer=request.user)
        if course is None:
            raise NotFound("No such course.")
        return course

    def _editable_course(self, request: Request, slug: str):
        if not request.user.is_authenticated:
            raise NotAuthenticated("Authentication credentials were not provided.")
        course = self._visible_course(request, slug)
        if not selectors.course_can_edit(course=course, user=request.user):
            raise Forbidden("Only this course's instructors and staff may change it.")
        return course

    @extend_schema(
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={200: CourseDetailSchema},
    )
    def get(self, request: Request, slug: str) -> Response:
        cache_key = catalog_cache.detail_key(slug)
        body = catalog_cache.get(cache_key)
        if body is None:
            course = self._visible_course(request, slug)
            body = presenters.course_detail(course)
            if course.is_published:  # only the public answer is shared through the cache
                catalog_cache.set_detail(cache_key, body)
        return Response(body)

    @extend_schema(request=CourseUpdateInput, responses={200: CourseDetailSchema})
    def patch(self, request: Request, slug: str) -> Response:
        course = self._editable_course(request, slug)
        serializer = CourseUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.course_update(course=course, data=serializer.validated_data)
        updated = selectors.course_get(slug=slug, viewer=request.user)
        return Response(presenters.course_detail(updated))

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
        query_input = SearchQuery(data=request.query_params.dict())
        query_input.is_valid(raise_exception=True)
        params = query_input.validated_data
        filters = search.SearchFilters(
            category=params.get("category") or None,
            level=params.get("level") or None,
            max_price=params.get("max_price"),
        )
        body = search.cached_search(
            query=params["q"], filters=filters, limit=params["limit"], offset=params["offset"]
        )
        return Response(body)
