"""Optimistic concurrency for authoring: two tabs (or two authors) editing the same course,
module or lesson.

Each of them has an integer `version` (+1 on every saved change). Studio answers carry it
in the body and as `ETag: "<version>"`; a PATCH may name the version it was based on, in
the body (`"version"`) and/or as `If-Match: "<version>"`. The service compares it with the
stored one *under the row lock it writes with*, so no write can slip in between: when it
differs, nothing is written and the answer is 409 `edit_conflict` with `current`, the
object as stored now, for the client to show ("Load their version" / "Keep mine").
Services check (`version_check`); views add `current` (`conflict_answers`).
"""

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from portal.errors import ApplicationError

CONFLICT_MESSAGE = (
    "This {what} was changed in another tab or by someone else since you loaded it; "
    "nothing was saved. Load their version, or send yours again with version {version}."
)
# An entity tag as RFC 9110 writes it ("3", W/"3"); bare numbers are accepted too.
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


class EditConflict(ApplicationError):
    status_code = 409
    code = "edit_conflict"


def etag(version: int) -> str:
    return f'"{version}"'


def etag_headers(version: int) -> dict[str, str]:
    return {"ETag": etag(version)}


def if_match_version(header: str | None) -> int | None:
    """The version an If-Match header names; None when absent or `*` (any). A value that
    is no version of ours cannot match: 0, which no object has."""
    if header is None or header.strip() in ("", "*"):
        return None
    found = _ETAG.match(header.split(",")[0])
    return int(found.group(1)) if found else 0


def expected_versions(*, body_version: int | None, if_match: str | None) -> list[int]:
    """Every version the request says it was based on (body and header)."""
    header_version = if_match_version(if_match)
    return [v for v in (body_version, header_version) if v is not None]


def version_check(*, stored: int, expected: list[int], what: str) -> None:
    """Raise 409 edit_conflict when any expected version differs from the stored one. The
    view adds `current` (`conflict_answers`): it knows how to present the object."""
    if all(version == stored for version in expected):
        return
    raise EditConflict(CONFLICT_MESSAGE.format(what=what, version=stored))


@contextlib.contextmanager
def conflict_answers(current: Callable[[], Mapping[str, Any]]) -> Iterator[None]:
    """Inside: an edit_conflict gains `current`, the object as stored now (read after the
    refused write's transaction rolled back)."""
    try:
        yield
    except EditConflict as conflict:
        conflict.extra["current"] = current()
        raise
