"""GET /media/<token>/<filename>: a file of the local backend, for whoever holds a link
the portal signed (catalog.media.storage.PrivateFileSystemStorage.url).

The token is the authorisation: the lesson API hands one out only to a reader it let in,
for one file, until its expiry. A bad or altered token, or an expired one, answers 403; a
file no longer stored, 404. `Range` requests get 206 with the bytes asked for (seeking in
a video), 416 when unsatisfiable. The file is streamed in chunks, never read whole: with
an async iterator under ASGI, a sync one under WSGI.
"""

import time
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.files import File
from django.core.files.storage import storages
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe

from catalog.media.grants import GrantExpired, GrantInvalid, grant_read
from catalog.media.ranges import ByteRange, Unsatisfiable, byte_range
from catalog.media.storage import file_basename

CHUNK_BYTES = 64 * 1024
# Nothing in a media answer may run as a page of this site, whatever the file holds.
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}


def _refusal(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain")
    for name, value in _SAFE_HEADERS.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def media_file(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    now = time.time()
    try:
        grant = grant_read(token, now=now)
    except GrantExpired:
        return _refusal(403, "This link has expired: reload the lesson for a new one.")
    except GrantInvalid:
        return _refusal(403, "This link is not valid.")
    if file_basename(grant.name) != filename:
        return _refusal(404, "Not found.")
    storage = storages["default"]
    try:
        file = storage.open(grant.name, "rb")
    except (FileNotFoundError, IsADirectoryError):
        return _refusal(404, "Not found.")
    try:
        size = file.size
        etag = quote_etag(f"{size:x}-{int(storage.get_modified_time(grant.name).timestamp()):x}")
        wanted = _wanted_range(request, size=size, etag=etag)
    except Unsatisfiable:
        file.close()
        refusal = _refusal(416, "Range not satisfiable.")
        refusal["Content-Range"] = f"bytes */{size}"
        refusal["Accept-Ranges"] = "bytes"
        return refusal
    except BaseException:
        file.close()
        raise

    start, length = (wanted.start, wanted.length) if wanted else (0, size)
    if request.method == "HEAD":
        file.close()
        response: HttpResponseBase = HttpResponse(status=206 if wanted else 200)
    else:
        response = StreamingHttpResponse(
            _file_range(request, file, start, length), status=206 if wanted else 200
        )
    response["Content-Type"] = grant.content_type
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    if wanted:
        response["Content-Range"] = wanted.content_range(size)
    if grant.disposition:
        response["Content-Disposition"] = grant.disposition
    # The browser may keep it for as long as the link is valid, and no shared cache may.
    response["Cache-Control"] = f"private, max-age={max(int(grant.expires_at - now), 0)}"
    response["Expires"] = http_date(grant.expires_at)
    for name, value in _SAFE_HEADERS.items():
        response[name] = value
    return response


def _wanted_range(request: HttpRequest, *, size: int, etag: str) -> ByteRange | None:
    # If-Range: the client's copy must be this very file, or it gets the whole one.
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None
    return byte_range(request.headers.get("Range"), size)


class _FileRange:
    """`length` bytes of an open file from `start`, read in chunks. Its `close()` closes
    the file: Django calls it when the answer is done, whether or not every chunk was
    sent (a player that seeks away drops the connection)."""

    def __init__(self, file: File, start: int, length: int) -> None:
        self.file, self.start, self.left = file, start, length
        self._sought = False

    def _next_chunk(self) -> bytes:
        if not self._sought:
            self.file.seek(self.start)
            self._sought = True
        if self.left <= 0:
            return b""
        chunk = self.file.read(min(CHUNK_BYTES, self.left))
        self.left -= len(chunk)
        return chunk

    def close(self) -> None:
        self.file.close()


class SyncFileRange(_FileRange):
    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._next_chunk():
            yield chunk


class AsyncFileRange(_FileRange):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = sync_to_async(self._next_chunk, thread_sensitive=False)
        while chunk := await read():
            yield chunk


def _file_range(
    request: HttpRequest, file: File, start: int, length: int
) -> SyncFileRange | AsyncFileRange:
    # Under ASGI Django would first collect a sync iterator into a list (the whole file in
    # memory): give it an async one. Under WSGI (the test client, a WSGI server), sync.
    if isinstance(request, ASGIRequest):
        return AsyncFileRange(file, start, length)
    return SyncFileRange(file, start, length)
