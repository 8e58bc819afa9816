"""Page links shared by the paginated list endpoints: absolute URLs, like DRF's."""

from collections.abc import Callable
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


def page_answer(
    request: Request,
    queryset: QuerySet,
    *,
    page: int,
    size: int,
    present: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """`{"count", "next", "previous", "results"}` for one page of a queryset."""
    count = queryset.count()
    items = list(queryset[(page - 1) * size : page * size])
    return {
        "count": count,
        "next": page_link(request, page + 1 if page * size < count else None),
        "previous": page_link(request, page - 1 if page > 1 else None),
        "results": [present(item) for item in items],
    }
