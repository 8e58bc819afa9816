"""Links to lesson files on the local backend: signed, expiring, bound to one file, and
served with HTTP Range support (catalog/media/)."""

import base64
import io
import json
import urllib.error
import urllib.request
import zlib

import pytest
from django.core import signing
from django.core.files.storage import storages

from catalog.media.grants import (
    SALT,
    GrantExpired,
    GrantInvalid,
    MediaGrant,
    grant_read,
    grant_token,
)
from catalog.media.ranges import ByteRange, Unsatisfiable, byte_range
from catalog.media.storage import media_url
from tests.catalog.media import CAPTIONS_BYTES, VIDEO_BYTES, store
from tests.live import LiveServer

pytestmark = pytest.mark.django_db

SIZE = len(VIDEO_BYTES)


@pytest.fixture
def video(local_media) -> str:
    return store("lessons/x/video.mp4", VIDEO_BYTES)


@pytest.fixture
def link(video) -> str:
    return media_url(video, content_type="video/mp4")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- ranges ------------------------------------------------------------------------------


def test_the_whole_file_without_a_range(client, link):
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert "Content-Range" not in response
    assert body_of(response) == VIDEO_BYTES


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes (a player's probe)
        ("bytes=0-0", 0, 0),
        ("bytes=1000-1999", 1000, 1999),  # the middle (a seek)
        ("bytes=-500", SIZE - 500, SIZE - 1),  # the last bytes
        ("bytes=400000-", 400000, SIZE - 1),  # open-ended, to the end
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE - 1),
        ("bytes=100-99999999", 100, SIZE - 1),  # an end past the file is clipped
        (f"bytes=-{SIZE * 2}", 0, SIZE - 1),  # a suffix longer than the file
        ("bytes = 5 - 9", 5, 9),
    ],
)
def test_a_range_answers_206_with_those_bytes(client, link, header, start, end):
    response = client.get(link, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body_of(response) == VIDEO_BYTES[start : end + 1]


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",  # ends before it starts
        "bytes=-0",  # an empty suffix
        "bytes=-",
        "bytes=",
        f"bytes={SIZE}-",  # starts at the end
        "bytes=99999999-100000000",
        "bytes=1" + "0" * 30 + "-",  # a number too long to be a size
        "bytes=0x10-0x20",
    ],
)
def test_an_invalid_or_unsatisfiable_range_answers_416(client, link, header):
    response = client.get(link, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5"])
def test_several_ranges_or_another_unit_get_the_whole_file(client, link, header):
    response = client.get(link, HTTP_RANGE=header)
    assert response.status_code == 200
    assert body_of(response) == VIDEO_BYTES


def test_head_answers_the_headers_without_the_bytes(client, link):
    response = client.head(link, HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{SIZE}"
    assert response["Content-Length"] == "10"
    assert response.content == b""


def test_if_range_gets_the_range_only_for_the_same_file(client, link):
    etag = client.head(link)["ETag"]
    same = client.get(link, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert same.status_code == 206
    changed = client.get(link, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"another-version"')
    assert changed.status_code == 200
    assert body_of(changed) == VIDEO_BYTES


def test_an_empty_file_has_no_satisfiable_range(client, local_media):
    empty = media_url(store("lessons/e/empty.txt", b""), content_type="text/plain")
    assert client.get(empty).status_code == 200
    assert client.get(empty, HTTP_RANGE="bytes=0-").status_code == 416
    assert client.get(empty, HTTP_RANGE="bytes=-1").status_code == 416


def test_range_parsing_edges():
    assert byte_range(None, 10) is None
    assert byte_range("", 10) is None
    assert byte_range("bytes=0-", 10) == ByteRange(0, 9)
    assert byte_range("BYTES=2-3", 10) == ByteRange(2, 3)
    with pytest.raises(Unsatisfiable):
        byte_range("bytes=10-", 10)


# --- what a link may serve -----------------------------------------------------------------


def test_answers_cannot_run_as_pages_and_are_not_shared(client, link):
    response = client.get(link)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert 3500 < int(response["Cache-Control"].split("=")[1]) <= 3600


def test_a_download_link_is_an_attachment(client, local_media):
    name = store("lessons/d/notes.txt", b"notes")
    response = client.get(media_url(name, content_type="text/plain", download_as="notes.txt"))
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["Content-Type"] == "text/plain"


def test_an_expired_link_is_refused(client, video):
    expired = storages["default"].url(video, expire=-1)
    response = client.get(expired)
    assert response.status_code == 403
    assert b"expired" in response.content
    assert "private" not in response.get("Cache-Control", "")


def test_a_grant_lives_until_its_expiry():
    token = grant_token(MediaGrant("a/b.mp4", "video/mp4", "", expires_at=1_000))
    assert grant_read(token, now=999.5).name == "a/b.mp4"
    with pytest.raises(GrantExpired):
        grant_read(token, now=1_000)


def _resigned_payload(link: str, **changes) -> str:
    """The link with its payload changed but the old signature kept."""
    prefix, token, filename = link.rsplit("/", 2)
    payload, stamp, signature = token.rsplit(":", 2)
    data = json.loads(zlib.decompress(base64.urlsafe_b64decode(payload[1:] + "==")))
    data.update(changes)
    raw = zlib.compress(json.dumps(data, separators=(",", ":")).encode())
    forged = "." + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{prefix}/{forged}:{stamp}:{signature}/{filename}"


def test_an_altered_link_is_refused(client, local_media, link):
    other = store("lessons/y/captions.en.vtt", CAPTIONS_BYTES)
    prefix, token, filename = link.rsplit("/", 2)

    # Another file's name, a later expiry, another type: the signature no longer matches.
    for forged in (
        _resigned_payload(link, n=other),
        _resigned_payload(link, e=4_102_444_800),
        _resigned_payload(link, t="text/html"),
    ):
        assert client.get(forged).status_code == 403, forged
    # A character of the signature changed.
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"{prefix}/{flipped}/{filename}").status_code == 403
    # A token signed for another purpose (no media salt) is not a grant.
    foreign = signing.dumps({"n": other, "t": "text/vtt", "d": "", "e": 4_102_444_800})
    assert client.get(f"{prefix}/{foreign}/captions.en.vtt").status_code == 403
    # The name at the end must be the granted file's.
    assert client.get(f"{prefix}/{token}/captions.en.vtt").status_code == 404
    # And the genuine link still works.
    assert client.get(link).status_code == 200


def test_a_token_of_one_file_never_serves_another(client, local_media):
    first = store("lessons/a/one.txt", b"first file")
    second = store("lessons/b/one.txt", b"second file")  # same base name, other file
    first_link = media_url(first, content_type="text/plain")
    second_link = media_url(second, content_type="text/plain")
    assert body_of(client.get(first_link)) == b"first file"
    assert body_of(client.get(second_link)) == b"second file"


def test_grant_tokens_reject_garbage():
    for token in ("", "x", "a:b:c", ".eJw:abc:def", signing.dumps([1, 2], salt=SALT)):
        with pytest.raises(GrantInvalid):
            grant_read(token, now=0)


def test_a_deleted_file_is_404(client, video, link):
    storages["default"].delete(video)
    assert client.get(link).status_code == 404


def test_only_reads_are_allowed(client, link):
    assert client.post(link).status_code == 405


def test_media_are_not_served_by_any_other_route(client, local_media, video):
    # No static or media route maps storage names to files.
    for path in (f"/media/{video}", f"/static/{video}", f"/{video}"):
        assert client.get(path).status_code == 404, path


# --- through a real server (ASGI: the file is streamed by an async iterator) ----------------


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_running_server_streams_ranges():
    # The server's storage is the test settings' (var/test-media), shared with this process.
    name = storages["default"].save("lessons/live/video.mp4", io.BytesIO(VIDEO_BYTES))
    server = LiveServer().start()
    try:
        url = server.url + media_url(name, content_type="video/mp4")
        whole = urllib.request.urlopen(url, timeout=10)  # noqa: S310
        assert whole.status == 200
        assert whole.read() == VIDEO_BYTES
        for header, start, end in (
            ("bytes=0-1023", 0, 1023),
            ("bytes=250000-250999", 250000, 250999),
            ("bytes=-4096", SIZE - 4096, SIZE - 1),
            ("bytes=500000-", 500000, SIZE - 1),
        ):
            request = urllib.request.Request(url, headers={"Range": header})  # noqa: S310
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                assert answer.status == 206
                assert answer.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
                assert answer.read() == VIDEO_BYTES[start : end + 1]
        request = urllib.request.Request(url, headers={"Range": f"bytes={SIZE}-"})  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310
        assert refused.value.code == 416
        assert refused.value.headers["Content-Range"] == f"bytes */{SIZE}"
    finally:
        server.stop()
        storages["default"].delete(name)
