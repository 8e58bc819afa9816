"""POST /api/lessons/{id}/media: a lesson's video and captions, checked and stored.

Limits, in the order they bite:
- the body: ApiBodySizeMiddleware refuses a Content-Length over the upload path's limit
  (API_UPLOAD_BODY_LIMITS) before anything reads it;
- each file while it streams in (`UploadLimitHandler`): a video over
  LESSON_MEDIA_MAX_BYTES or a captions file over LESSON_CAPTIONS_MAX_BYTES stops the
  upload, so a body without a Content-Length cannot fill the disk either → 413;
- the content (`lesson_media_attach`): the video's first bytes must be MP4 or WebM and
  match the declared type, captions must be UTF-8 WebVTT → 415.

Files are written to the storage first and the lesson rows changed after, in one
transaction; if that fails, the new files are deleted again. Files the upload replaced
are deleted after commit through the outbox, unless another lesson still uses them
(demo lessons share one video).
"""

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import cast

import structlog
from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.db.models import F, Max
from django.http import HttpRequest

from catalog import cache as catalog_cache
from catalog import selectors
from catalog.media import checks
from catalog.media.storage import guess_content_type
from catalog.models import Lesson, LessonCaption, LessonResource, lesson_file_path
from catalog.shapes import VIDEO_CONTENT_TYPES, LessonKind
from portal.errors import ApplicationError
from portal.outbox.registry import effect_handler
from portal.outbox.services import effect_record

log = structlog.get_logger(__name__)

VIDEO_FIELD = "file"
CAPTIONS_FIELD = "captions"
RESOURCE_FIELD = "file"  # of POST /api/lessons/{id}/resources
_EXTENSIONS = {"video/mp4": ".mp4", "video/webm": ".webm"}


class MediaTooLarge(ApplicationError):
    status_code = 413
    code = "payload_too_large"


class MediaTypeRefused(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"


def _limits() -> dict[str, int]:
    return {
        VIDEO_FIELD: settings.LESSON_MEDIA_MAX_BYTES,
        CAPTIONS_FIELD: settings.LESSON_CAPTIONS_MAX_BYTES,
    }


def _resource_limits() -> dict[str, int]:
    return {RESOURCE_FIELD: settings.LESSON_RESOURCE_MAX_BYTES}


def _too_large(field: str, limits: dict[str, int] | None = None) -> MediaTooLarge:
    limit = (limits or _limits())[field]
    message = f"Larger than the {limit} bytes allowed."
    what = {VIDEO_FIELD: "The video", CAPTIONS_FIELD: "A captions file"}
    if limits is not None:
        what = {RESOURCE_FIELD: "The file"}
    return MediaTooLarge(
        f"{what[field]} is larger than the {limit} bytes allowed.", {field: [message]}
    )


class UploadLimitHandler(FileUploadHandler):
    """Stops an upload as soon as one file outgrows its field's limit (any other file
    field is held to the smallest limit). The view then answers 413 (`upload_refusal`)."""

    def __init__(
        self, request: HttpRequest | None = None, limits: dict[str, int] | None = None
    ) -> None:
        super().__init__(request)
        self.limits = limits or _limits()
        self.limit = 0
        self.received = 0

    def new_file(self, field_name: str, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.limit = self.limits.get(field_name, min(self.limits.values()))
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            # Noted on the request for upload_refusal (a handler always has one).
            self.request.upload_refused_field = (  # type: ignore[union-attr]
                self.field_name
                if self.field_name in self.limits
                else min(self.limits, key=self.limits.__getitem__)
            )
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file


def upload_limits_install(request: HttpRequest, *, resources: bool = False) -> None:
    """Put the limit first among the request's upload handlers (before anything parses
    the body: the session's CSRF check reads the form). `resources`: the limits of
    POST /api/lessons/{id}/resources instead of the video's and captions'."""
    limits = _resource_limits() if resources else None
    request.upload_limits = limits  # type: ignore[attr-defined]  # for upload_refusal
    # Still a list: nothing has read the body yet (an ImmutableList only after that).
    request.upload_handlers.insert(0, UploadLimitHandler(request, limits))  # type: ignore[union-attr]


def upload_refusal(request: HttpRequest) -> MediaTooLarge | None:
    field = getattr(request, "upload_refused_field", None)
    return _too_large(field, getattr(request, "upload_limits", None)) if field else None


def _size(file: UploadedFile) -> int:
    # An uploaded file always has one (the stubs allow None, as for any File).
    return cast(int, file.size)


@dataclass(frozen=True)
class CaptionUpload:
    file: UploadedFile
    lang: str
    label: str


def _video_check(video: UploadedFile) -> str:
    """The video's content type, from its bytes; 413 or 415 otherwise."""
    if _size(video) > settings.LESSON_MEDIA_MAX_BYTES:
        raise _too_large(VIDEO_FIELD)
    declared = checks.declared_type(video)
    if not checks.is_accepted_video_type(declared):
        accepted = ", ".join(VIDEO_CONTENT_TYPES)
        raise MediaTypeRefused(
            f"A lesson video must be one of {accepted}, not {declared or 'untyped'}.",
            {VIDEO_FIELD: [f"Must be one of {accepted}."]},
        )
    sniffed = checks.sniff_video_type(video)
    if sniffed != declared:
        message = f"The file's content is not {declared}."
        raise MediaTypeRefused(message, {VIDEO_FIELD: [message]})
    return sniffed


def _captions_check(captions: list[CaptionUpload]) -> None:
    for index, caption in enumerate(captions):
        field = f"{CAPTIONS_FIELD}.{index}"
        if _size(caption.file) > settings.LESSON_CAPTIONS_MAX_BYTES:
            raise MediaTooLarge(
                "A captions file is larger than the "
                f"{settings.LESSON_CAPTIONS_MAX_BYTES} bytes allowed.",
                {field: ["Too large."]},
            )
        declared = checks.declared_type(caption.file)
        if declared not in ("text/vtt", "text/plain", "application/octet-stream", ""):
            message = f"Captions must be WebVTT (text/vtt), not {declared}."
            raise MediaTypeRefused(message, {field: [message]})
        if not checks.is_webvtt(caption.file):
            message = "Captions must be UTF-8 WebVTT text starting with WEBVTT."
            raise MediaTypeRefused(message, {field: [message]})


def _video_name(video: UploadedFile, content_type: str) -> str:
    stem = PurePosixPath(video.name or "video").stem or "video"
    return f"{stem}{_EXTENSIONS[content_type]}"


def lesson_media_attach(
    *, lesson: Lesson, video: UploadedFile | None, captions: list[CaptionUpload]
) -> Lesson:
    """Store a lesson's video (making it a video lesson) and captions (replacing those of
    the same language)."""
    content_type = _video_check(video) if video is not None else None
    _captions_check(captions)
    if video is None and not lesson.media:
        message = "Upload the video first (or with its captions)."
        raise ApplicationError(message, {CAPTIONS_FIELD: [message]})

    storage = storages["default"]
    stored: list[str] = []
    try:
        video_name = None
        if video is not None and content_type is not None:
            video_name = storage.save(
                lesson_file_path(lesson, _video_name(video, content_type)), video
            )
            stored.append(video_name)
        caption_names = []
        for caption in captions:
            caption_names.append(
                storage.save(lesson_file_path(lesson, f"captions.{caption.lang}.vtt"), caption.file)
            )
            stored.append(caption_names[-1])
        return _lesson_media_record(
            lesson_id=lesson.pk,
            video_name=video_name,
            content_type=content_type,
            captions=list(zip(captions, caption_names, strict=True)),
        )
    except BaseException:
        for name in stored:
            _delete_quietly(name)
        raise


@transaction.atomic
def _lesson_media_record(
    *,
    lesson_id: int,
    video_name: str | None,
    content_type: str | None,
    captions: list[tuple[CaptionUpload, str]],
) -> Lesson:
    lesson = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson_id)
    replaced: list[str] = []
    if video_name is not None and content_type is not None:
        if lesson.media:
            replaced.append(lesson.media.name)
        lesson.media = video_name
        lesson.media_content_type = content_type
        lesson.kind = LessonKind.VIDEO
        lesson.save(update_fields=["media", "media_content_type", "kind"])
    # A saved change of the lesson (its media or captions): +1 on its version.
    Lesson.objects.filter(pk=lesson.pk).update(version=F("version") + 1)
    lesson.version += 1
    for caption, name in captions:
        # Language tags are case-insensitive: "en-GB" replaces "en-gb".
        existing = LessonCaption.objects.filter(lesson=lesson, lang__iexact=caption.lang).first()
        if existing is None:
            LessonCaption.objects.create(
                lesson=lesson, lang=caption.lang, label=caption.label, file=name
            )
            continue
        replaced.append(existing.file.name)
        existing.file = name
        existing.lang = caption.lang
        existing.label = caption.label
        existing.save(update_fields=["file", "lang", "label"])
    if replaced:
        effect_record("catalog.media.uploads.stored_files_delete_effect", names=replaced)
    # The outline shows each lesson's kind.
    catalog_cache.invalidate_on_commit([lesson.module.course.slug])
    return lesson


def _delete_quietly(name: str) -> None:
    try:
        storages["default"].delete(name)
    except Exception:
        log.warning("media.delete_failed", name=name, exc_info=True)


@effect_handler
def stored_files_delete_effect(*, names: list[str]) -> None:
    """Delete stored files that no lesson, caption or resource refers to any more."""
    for name in names:
        if not selectors.stored_file_in_use(name=name):
            storages["default"].delete(name)


# --- resources, and taking media away (the studio) ----------------------------------------


def _resource_type_check(file: UploadedFile) -> str:
    """The resource's content type, from its name's extension (LESSON_RESOURCE_TYPES);
    415 otherwise. Resources are always served as attachments, never rendered inline."""
    content_type = guess_content_type(file.name or "")
    if content_type not in settings.LESSON_RESOURCE_TYPES:
        message = (
            f"This type of file ({content_type}) cannot be attached; use PDF, text, "
            "Markdown, CSV, JSON, images, ZIP or office documents."
        )
        raise MediaTypeRefused(message, {RESOURCE_FIELD: [message]})
    return content_type


def lesson_resource_attach(*, lesson: Lesson, file: UploadedFile, title: str) -> Lesson:
    """Store a downloadable file beside a lesson (after its other resources)."""
    if _size(file) > settings.LESSON_RESOURCE_MAX_BYTES:
        raise _too_large(RESOURCE_FIELD, _resource_limits())
    content_type = _resource_type_check(file)
    name = storages["default"].save(lesson_file_path(lesson, file.name or "file"), file)
    try:
        return _lesson_resource_record(
            lesson_id=lesson.pk, name=name, title=title, size=_size(file), content_type=content_type
        )
    except BaseException:
        _delete_quietly(name)
        raise


@transaction.atomic
def _lesson_resource_record(
    *, lesson_id: int, name: str, title: str, size: int, content_type: str
) -> Lesson:
    lesson = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson_id)
    last = lesson.resources.aggregate(last=Max("position"))["last"]
    LessonResource.objects.create(
        lesson=lesson,
        title=title,
        file=name,
        size=size,
        content_type=content_type,
        position=(last or 0) + 1,
    )
    _lesson_changed(lesson)
    return lesson


def _lesson_changed(lesson: Lesson) -> None:
    """A saved change of the lesson's files: +1 on its version, its outline retired."""
    Lesson.objects.filter(pk=lesson.pk).update(version=F("version") + 1)
    lesson.version += 1
    catalog_cache.invalidate_on_commit([lesson.module.course.slug])


@transaction.atomic
def lesson_media_detach(*, lesson: Lesson) -> Lesson:
    """Take a lesson's video and its captions away (the files go after commit)."""
    lesson = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson.pk)
    names = [caption.file.name for caption in lesson.captions.all()]
    if lesson.media:
        names.append(lesson.media.name)
    lesson.captions.all().delete()
    lesson.media = ""
    lesson.media_content_type = ""
    lesson.save(update_fields=["media", "media_content_type"])
    if names:
        effect_record("catalog.media.uploads.stored_files_delete_effect", names=names)
    _lesson_changed(lesson)
    return lesson


@transaction.atomic
def lesson_caption_delete(*, caption: LessonCaption) -> None:
    lesson = (
        Lesson.objects.select_for_update()
        .select_related("module__course")
        .get(pk=caption.lesson_id)
    )
    deleted, _ = LessonCaption.objects.filter(pk=caption.pk).delete()
    if deleted:
        effect_record("catalog.media.uploads.stored_files_delete_effect", names=[caption.file.name])
        _lesson_changed(lesson)


@transaction.atomic
def lesson_resource_delete(*, resource: LessonResource) -> None:
    lesson = (
        Lesson.objects.select_for_update()
        .select_related("module__course")
        .get(pk=resource.lesson_id)
    )
    deleted, _ = LessonResource.objects.filter(pk=resource.pk).delete()
    if deleted:
        effect_record(
            "catalog.media.uploads.stored_files_delete_effect", names=[resource.file.name]
        )
        _lesson_changed(lesson)
