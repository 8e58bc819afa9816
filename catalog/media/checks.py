"""What an uploaded lesson file must be, judged by its first bytes and not only by the
type its sender declared (which anyone can set to anything)."""

from django.core.files.uploadedfile import UploadedFile

from catalog.shapes import VIDEO_CONTENT_TYPES

# EBML's magic number; a WebM file then names its DocType "webm" in the header (Matroska,
# the same container, says "matroska" and is not accepted).
_EBML = b"\x1a\x45\xdf\xa3"
_HEAD_BYTES = 64
# WebVTT may start with a byte-order mark, then "WEBVTT" followed by the end of the line,
# a space or a tab (W3C WebVTT §4.1).
_BOM = b"\xef\xbb\xbf"
_VTT_SIGNATURE = "WEBVTT"


def _head(file: UploadedFile, size: int = _HEAD_BYTES) -> bytes:
    file.seek(0)
    head = file.read(size)
    file.seek(0)
    return head


def sniff_video_type(file: UploadedFile) -> str | None:
    """`video/mp4` or `video/webm` when the content is one, else None."""
    head = _head(file)
    # ISO base media (MP4): the first box is `ftyp`: 4 bytes of size, then the type.
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(_EBML) and b"webm" in head:
        return "video/webm"
    return None


def declared_type(file: UploadedFile) -> str:
    return (file.content_type or "").split(";")[0].strip().lower()


def is_accepted_video_type(content_type: str) -> bool:
    return content_type in VIDEO_CONTENT_TYPES


def is_webvtt(file: UploadedFile) -> bool:
    """UTF-8 text that starts with the WebVTT signature line. Captions are small (the
    view refuses large ones first), so the whole file is read."""
    file.seek(0)
    content = file.read()
    file.seek(0)
    try:
        text = content.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text.startswith(_VTT_SIGNATURE):
        return False
    after = text[len(_VTT_SIGNATURE) : len(_VTT_SIGNATURE) + 1]
    return after in ("", "\n", "\r", " ", "\t")
