"""Page links shared by the paginated list endpoints: absolute URLs, like DRF's."""

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from rest_framework.request import Request


def page_link(request: Request, page: int | None) -> str | None:
    if page is None:
        return None
    params: QueryDict = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(request.path + "?" + params.urlencode())


def page_items(queryset: QuerySet, *, page: int, size: int, count: int) -> list[Any]:
    """The rows of page `page` (from 1) of `count` rows. Past the end: none, and no query,
    since any page number is accepted and an offset beyond bigint fails in the database."""
    offset = (page - 1) * size
    return list(queryset[offset : offset + size]) if offset < count else []


def last_page(count: int, size: int) -> int:
    return max(1, -(-count // size))


def page_answer(
    request: Request,
    queryset: QuerySet,
    *,
    page: int,
    size: int,
    present: Callable[[Any], Mapping[str, Any]],
) -> dict[str, Any]:
    """`{"count", "next", "previous", "results"}` for one page of a queryset. A page past
    the end is empty, and its `previous` is the last page."""
    count = queryset.count()
    items = page_items(queryset, page=page, size=size, count=count)
    return {
        "count": count,
        "next": page_link(request, page + 1 if page * size < count else None),
        "previous": page_link(request, min(page - 1, last_page(count, size)) if page > 1 else None),
        "results": [present(item) for item in items],
    }
