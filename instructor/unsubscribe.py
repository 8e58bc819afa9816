"""Signed unsubscribe links: the token names a student and a course, signed with the
SECRET_KEY (django.core.signing), so whoever holds the link may opt that student out of
that course's announcements and nothing else, without signing in. No expiry: a link in an
old email keeps working."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from instructor.models import AnnouncementOptOut

SALT = "instructor.unsubscribe"


@dataclass(frozen=True)
class Subscription:
    student_id: int
    course_id: int


def unsubscribe_token(*, student_id: int, course_id: int) -> str:
    return signing.dumps([student_id, course_id], salt=SALT)


def unsubscribe_url(*, student_id: int, course_id: int) -> str:
    token = unsubscribe_token(student_id=student_id, course_id=course_id)
    return f"{settings.SITE_URL}/unsubscribe/{token}"


def subscription_from_token(token: str) -> Subscription | None:
    """What a token names, or None when it was not signed by us (or is malformed)."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(type(part) is int for part in value)
    ):
        return None
    return Subscription(student_id=value[0], course_id=value[1])


def announcements_opt_out(*, subscription: Subscription) -> bool:
    """Opt the student out of the course's announcements; True if they were opted in.
    Twice is harmless (a mail client's one-click POST and then the page's button)."""
    try:
        with transaction.atomic():
            _, created = AnnouncementOptOut.objects.get_or_create(
                student_id=subscription.student_id, course_id=subscription.course_id
            )
    except IntegrityError:  # a concurrent opt-out, or the student or course is gone
        return False
    return created
