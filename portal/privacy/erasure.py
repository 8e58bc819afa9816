"""DELETE /api/me: erase an account (docs/architecture.md, "Accounts", says the same).

Refused while the account teaches a course (409 `teaches_courses`: hand the course over
first), since a course names its instructors. Otherwise, in one transaction:

- kept for accounting, with the person taken out: the account's Student record (name
  "Deleted user", email `deleted-<student id>@invalid`, unlinked from the account), and
  with it its enrollments, payments and their ledger calls, lesson progress; its receipts
  (`student_name`, `student_email` likewise) and certificates (`student_name`); the same
  student's enrollments as other people's live-update events carry them (an instructor's
  `enrollment.created`), and the admin log's names for both records;
- deleted: the account's own event log, its Idempotency-Keys (their stored answers name
  the student), its announcement opt-outs, its sign-in rows (UserSession, AuthToken),
  jobs still owed or failed whose first argument is its email, and the User row itself;
- ended: its places in waitlists (a seat an offer of it held passes to the next in
  line), then deleted with the account;
- detached: announcements it sent and coupons it made stay with the course, without an
  author.

After commit its browser sessions are deleted and every socket it has open is closed
with 4401 (a session or token of it that no row lists is refused at once anyway: its
user no longer exists).
"""

from typing import Any

import structlog
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import ProtectedError

from catalog import waitlist
from catalog.models import CourseInstructor
from enrollment.models import Certificate, Enrollment, Receipt, Student
from instructor.models import AnnouncementOptOut
from portal.accounts import hooks
from portal.accounts.erased import ERASED_NAME, erased_email
from portal.accounts.models import AuthToken, User, UserSession
from portal.accounts.sessions import session_end_by_key
from portal.errors import ApplicationError, Conflict
from portal.events.models import UserEvent
from portal.idempotency.decorators import user_scope
from portal.idempotency.models import IdempotencyKey
from portal.jobs.models import FailedJob
from portal.outbox.models import Effect

log = structlog.get_logger(__name__)
WRONG_PASSWORD = "That is not your password."  # noqa: S105 - a message
HAND_OVER = (
    "Hand each course over to another instructor (or ask staff to) before deleting your account."
)


class TeachesCourses(Conflict):
    code = "teaches_courses"


def _teaching_refusal(user: User) -> TeachesCourses | None:
    titles = list(
        CourseInstructor.objects.filter(user=user)
        .order_by("course__title")
        .values_list("course__title", flat=True)
    )
    if not titles:
        return None
    named = ", ".join(f"“{title}”" for title in titles[:3]) + (
        " and more" if len(titles) > 3 else ""
    )
    return TeachesCourses(
        f"You still teach {len(titles)} course{'s' if len(titles) != 1 else ''} ({named}). "
        + HAND_OVER
    )


def _scrubbed(value: Any, replacements: dict[str, str]) -> Any:
    """`value` with every person object ({"email", "name", …}) whose email is one of
    `replacements` anonymised."""
    if isinstance(value, list):
        return [_scrubbed(item, replacements) for item in value]
    if not isinstance(value, dict):
        return value
    scrubbed = {key: _scrubbed(item, replacements) for key, item in value.items()}
    email = scrubbed.get("email")
    if isinstance(email, str) and email.lower() in replacements:
        scrubbed["email"] = replacements[email.lower()]
        if "name" in scrubbed:
            scrubbed["name"] = ERASED_NAME
    return scrubbed


def _students_anonymise(students: list[Student]) -> None:
    replacements: dict[str, str] = {}
    for student in students:
        placeholder = erased_email(student.pk)
        replacements[student.email.lower()] = placeholder
        Receipt.objects.filter(enrollment__student=student).update(
            student_name=ERASED_NAME, student_email=placeholder
        )
        Certificate.objects.filter(enrollment__student=student).update(student_name=ERASED_NAME)
        Student.objects.filter(pk=student.pk).update(name=ERASED_NAME, email=placeholder, user=None)
    ids = list(Enrollment.objects.filter(student__in=students).values_list("pk", flat=True))
    # Other people's event logs (instructors') carry these enrollments with the student.
    for event in UserEvent.objects.filter(payload__enrollment__id__in=ids):
        UserEvent.objects.filter(pk=event.pk).update(payload=_scrubbed(event.payload, replacements))
    AnnouncementOptOut.objects.filter(student__in=students).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Student),
        object_id__in=[str(student.pk) for student in students],
    ).update(object_repr=ERASED_NAME)


def _credentials_close(*, session_keys: list[str], token_hashes: list[str]) -> None:
    for session_key in session_keys:
        session_end_by_key(session_key=session_key)
    for key_hash in token_hashes:
        hooks.credentials_revoked(kind="token_hash", secret=key_hash)


def account_erase(*, user: User, password: str) -> None:
    if not user.check_password(password):
        raise ApplicationError(WRONG_PASSWORD, {"password": [WRONG_PASSWORD]})
    if refusal := _teaching_refusal(user):
        raise refusal
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        session_keys = list(
            UserSession.objects.filter(user=user).values_list("session_key", flat=True)
        )
        token_hashes = list(
            AuthToken.objects.filter(user=user, revoked_at__isnull=True).values_list(
                "key_hash", flat=True
            )
        )
        _students_anonymise(list(Student.objects.select_for_update().filter(user=user)))
        waitlist.places_end_for_erasure(user=user)  # an offer's seat passes on
        UserEvent.objects.filter(user=user).delete()
        IdempotencyKey.objects.filter(scope=user_scope(user.pk)).delete()
        Effect.objects.filter(payload__args__0=user.email).delete()
        FailedJob.objects.filter(args__0=user.email).delete()
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
        ).update(object_repr=ERASED_NAME)
        user_id = user.pk
        try:
            # Cascades to its tokens, session rows, event cursor and admin actions; its
            # announcements and coupons lose their author (SET_NULL).
            user.delete()
        except ProtectedError as exc:  # made an instructor since the check above
            raise _teaching_refusal(user) or TeachesCourses(HAND_OVER) from exc
        transaction.on_commit(
            lambda: _credentials_close(session_keys=session_keys, token_hashes=token_hashes)
        )
    log.info("account.erased", user=user_id)
