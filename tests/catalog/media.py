"""Lesson files for tests: a storage of the test's own, and lessons with real media (the
demo video and captions the portal ships)."""

import itertools
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from catalog.demo import DEMO_CAPTIONS, DEMO_CHEATSHEET, DEMO_FILES, DEMO_VIDEO
from catalog.models import Lesson, LessonCaption, LessonResource
from enrollment.models import Enrollment, Student
from portal.accounts.models import User

VIDEO_BYTES = DEMO_FILES[DEMO_VIDEO].read_bytes()
CAPTIONS_BYTES = DEMO_FILES[DEMO_CAPTIONS].read_bytes()
CHEATSHEET_BYTES = DEMO_FILES[DEMO_CHEATSHEET].read_bytes()
# A WebM file's first bytes: the EBML header naming its DocType "webm".
WEBM_HEAD = bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"

_numbers = itertools.count(1)


def use_local_storage(settings, folder: Path) -> None:
    """Lesson files of this test in `folder`, on the local backend."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }


def store(name: str, data: bytes) -> str:
    return storages["default"].save(name, ContentFile(data))


def give_video(lesson: Lesson, *, captions: bool = True) -> Lesson:
    """Make `lesson` a video lesson with the demo video (and English captions)."""
    number = next(_numbers)
    lesson.kind = "video"
    lesson.media = store(f"lessons/t{number}/video.mp4", VIDEO_BYTES)
    lesson.media_content_type = "video/mp4"
    lesson.save()
    if captions:
        LessonCaption.objects.create(
            lesson=lesson,
            lang="en",
            label="English",
            file=store(f"lessons/t{number}/captions.en.vtt", CAPTIONS_BYTES),
        )
    return lesson


def give_resource(lesson: Lesson, *, title: str = "Cheat sheet") -> LessonResource:
    number = next(_numbers)
    name = store(f"lessons/r{number}/cheatsheet.txt", CHEATSHEET_BYTES)
    return LessonResource.objects.create(
        lesson=lesson,
        title=title,
        file=name,
        size=len(CHEATSHEET_BYTES),
        content_type="text/plain",
    )


def enroll_directly(user: User, course, *, status: str = "active") -> Enrollment:
    """An enrollment in a given status, without the pipeline (access is the point)."""
    student, _ = Student.objects.get_or_create(
        email=user.email, defaults={"name": user.name, "user": user}
    )
    return Enrollment.objects.create(
        number=f"ENR-TEST-{next(_numbers):06d}", student=student, course=course, status=status
    )
