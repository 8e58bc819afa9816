"""Page links shared by the paginated list endpoints: absolute URLs, like DRF's."""

from django.http import QueryDict
from rest_framework.request import Request


def page_link(request: Request, page: int | None) -> str | None:
    if page is None:
        return None
    params: QueryDict = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(request.path + "?" + params.urlencode())
