"""The waitlist of a full course: a line of signed-in students, and timed seat offers.

    waitlist_join(course=…, user=…)        # a place at the end of the line (201)
    waitlist_leave(course=…, user=…)       # leave it; a held offer passes to the next
    seat_free(course_id=…, …)              # an enrollment ended: its seat to the line, or freed
    offer_use(course_id=…, user_id=…, …)   # POST /api/enrollments by a student with an offer
    offers_make(course_id=…)               # free seats become offers, first in line first
    offers_expire()                        # beat: unused offers pass on

The seat rule stays catalog.seats': an offer holds one of the course's taken seats
(`seats_taken` counts it), so the seat count never exceeds the capacity counting offers,
and a stranger's `course_seat_take` finds the course full while an offer stands. A seat
given up while students wait never becomes free: it changes hands in the transaction
that gave it up, under the course's row lock (taken by the release), so no stranger can
take it in between.

Locks, so that no two paths wait on each other in a circle: paths that start from the
course (a seat given up, a join, a capacity raised) lock the course row, then *waiting*
entries in id order; paths that start from an entry (an offer expiring or left, an offer
used) lock that *offered* entry, then the course. Position announcements lock waiting
entries only, in id order.

Positions: `waitlist.position` is sent by a job (`positions_announce`) to each waiting
student whose place differs from the one last told (`announced_position`): a burst of
changes costs one announcement per student whose place moved, not one per change.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import WAITLIST_LIVE, Course, WaitlistEntry, WaitlistStatus
from catalog.seats import course_seat_release, course_seats_hold
from portal.accounts.models import User
from portal.enqueue import job_enqueue_on_commit
from portal.errors import Conflict, NotFound
from portal.events.publish import course_group, group_send, publish_to_user, publish_to_users
from portal.events.types import (
    CourseWaitlist,
    WaitlistExpired,
    WaitlistLeft,
    WaitlistOffer,
    WaitlistPosition,
)
from portal.shapes import iso

log = structlog.get_logger(__name__)

# Offers made by one call; more free seats than this (a capacity raised by thousands)
# are offered by the next sweep.
OFFERS_PER_RUN = 500
ANNOUNCE_JOB = "catalog.tasks.announce_waitlist_positions"
OFFER_EMAIL_JOB = "catalog.tasks.send_waitlist_offer_email"


class CourseNotFull(Conflict):
    code = "course_not_full"

    def __init__(self, message: str = "This course has a free seat: enroll instead.") -> None:
        super().__init__(message)


class NotInWaitlist(NotFound):
    code = "not_in_waitlist"

    def __init__(self, message: str = "You are not on this course's waitlist.") -> None:
        super().__init__(message)


class OfferExpired(Conflict):
    code = "offer_expired"

    def __init__(
        self, message: str = "Your seat offer expired and the course is full again."
    ) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Place:
    """A student's entry as the API answers it."""

    course: str
    title: str
    status: str
    position: int | None  # in line (1 = next); None once offered
    joined_at: datetime
    offer_expires_at: datetime | None

    def body(self) -> dict:
        return {
            "course": self.course,
            "title": self.title,
            "position": self.position,
            "status": self.status,
            "joined_at": iso(self.joined_at),
            "offer_expires_at": iso(self.offer_expires_at),
        }


def offer_ttl() -> timedelta:
    return timedelta(minutes=settings.WAITLIST_OFFER_MINUTES)


def _position(entry: WaitlistEntry) -> int | None:
    if entry.status != WaitlistStatus.WAITING:
        return None
    return WaitlistEntry.objects.filter(
        course_id=entry.course_id, status=WaitlistStatus.WAITING, id__lte=entry.pk
    ).count()


def _place(entry: WaitlistEntry, course: Course) -> Place:
    return Place(
        course.slug,
        course.title,
        entry.status,
        _position(entry),
        entry.joined_at,
        entry.offer_expires_at,
    )


def waiting_count(*, course_id: int) -> int:
    return WaitlistEntry.objects.filter(course_id=course_id, status=WaitlistStatus.WAITING).count()


def waiting_announce(*, course_id: int, slug: str) -> None:
    """`course.waitlist` to the course's watchers after commit, counted then (a count
    taken in the transaction could reach them after a later one's)."""

    def send() -> None:
        frame = CourseWaitlist(course=slug, waiting=waiting_count(course_id=course_id))
        group_send(course_group(slug), frame.to_frame())

    transaction.on_commit(send)


def _live_entry(*, course_id: int, user_id: int, lock: bool = False) -> WaitlistEntry | None:
    rows = WaitlistEntry.objects.filter(
        course_id=course_id, user_id=user_id, status__in=WAITLIST_LIVE
    )
    return (rows.select_for_update() if lock else rows).first()


def place_get(*, course: Course, user: User) -> Place:
    """The caller's place (GET): 404 `not_in_waitlist` without one."""
    entry = _live_entry(course_id=course.pk, user_id=user.pk)
    if entry is None:
        raise NotInWaitlist()
    return _place(entry, course)


def places_of(*, user: User, course_slug: str | None = None) -> list[Place]:
    """The user's places in line and offers held, oldest first (GET /api/me/waitlist)."""
    entries = (
        WaitlistEntry.objects.filter(user=user, status__in=WAITLIST_LIVE)
        .select_related("course")
        .order_by("id")
    )
    if course_slug is not None:
        entries = entries.filter(course__slug=course_slug)
    return [_place(entry, entry.course) for entry in entries]


@transaction.atomic
def waitlist_join(*, course: Course, user: User) -> tuple[Place, bool]:
    """A place at the end of a full course's line; (place, created). Joining again
    answers the place held. The course row is locked, so a seat given up concurrently
    either is seen free here (409 `course_not_full`: enroll instead) or finds this
    entry in line and offers it."""
    locked = (
        Course.objects.select_for_update()
        .only("id", "slug", "title", "capacity", "seats_taken")
        .get(pk=course.pk)
    )
    existing = _live_entry(course_id=locked.pk, user_id=user.pk)
    if existing is not None:
        return _place(existing, locked), False
    if locked.capacity is None or locked.seats_taken < locked.capacity:
        raise CourseNotFull()
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(course_id=locked.pk, user_id=user.pk)
    except IntegrityError:  # the same student's concurrent join won
        theirs = _live_entry(course_id=locked.pk, user_id=user.pk)
        if theirs is None:
            raise
        return _place(theirs, locked), False
    place = _place(entry, locked)
    WaitlistEntry.objects.filter(pk=entry.pk).update(announced_position=place.position)
    publish_to_user(
        user_id=user.pk, event=WaitlistPosition(course=locked.slug, position=place.position or 0)
    )
    waiting_announce(course_id=locked.pk, slug=locked.slug)
    log.info("waitlist.joined", course=locked.pk, user=user.pk, position=place.position)
    return place, True


@transaction.atomic
def waitlist_leave(*, course: Course, user: User) -> None:
    """Leave the line (404 `not_in_waitlist` when not in it); a held offer is declined
    and its seat passes to the next in line."""
    entry = _live_entry(course_id=course.pk, user_id=user.pk, lock=True)
    if entry is None:
        raise NotInWaitlist()
    offered = entry.status == WaitlistStatus.OFFERED
    _end(entry, WaitlistStatus.LEFT)
    publish_to_user(user_id=user.pk, event=WaitlistLeft(course=course.slug))
    if offered:
        seat_free(course_id=course.pk)
    else:
        job_enqueue_on_commit(ANNOUNCE_JOB, course.pk)
        waiting_announce(course_id=course.pk, slug=course.slug)
    log.info("waitlist.left", course=course.pk, user=user.pk, offered=offered)


def _end(entry: WaitlistEntry, status: str, *, enrollment_id: int | None = None) -> None:
    entry.status = status
    entry.ended_at = timezone.now()
    entry.enrollment_id = enrollment_id
    entry.save(update_fields=["status", "ended_at", "enrollment_id"])


def seat_free(*, course_id: int, enrollment_id: int | None = None, declined: bool = False) -> None:
    """A taken seat is given up (an enrollment ended, an offer expired or was left), in
    the caller's transaction: it goes to the first in line as an offer, or is released
    when nobody waits. A declined first card on a seat taken with an offer gives the
    offer back while it lasts: the seat stays with it."""
    if declined and enrollment_id is not None and _offer_reopen(enrollment_id):
        return
    if course_seat_release(course_id=course_id) is None:
        return
    # The course row is locked from the release on: a join now waits for this commit.
    if WaitlistEntry.objects.filter(course_id=course_id, status=WaitlistStatus.WAITING).exists():
        offers_make(course_id=course_id)


def _offer_reopen(enrollment_id: int) -> bool:
    entry = (
        WaitlistEntry.objects.select_for_update()
        .select_related("course")
        .filter(enrollment_id=enrollment_id, status=WaitlistStatus.ENROLLED)
        .first()
    )
    if entry is None or entry.offer_expires_at is None or entry.offer_expires_at <= timezone.now():
        return False
    entry.status = WaitlistStatus.OFFERED
    entry.ended_at = None
    entry.enrollment_id = None
    entry.save(update_fields=["status", "ended_at", "enrollment_id"])
    publish_to_user(
        user_id=entry.user_id,
        event=WaitlistOffer(course=entry.course.slug, offer_expires_at=iso(entry.offer_expires_at)),
    )
    log.info("waitlist.offer_reopened", entry=entry.pk)
    return True


def offers_make(*, course_id: int, limit: int = OFFERS_PER_RUN) -> int:
    """Offer the course's free seats to the first in line, in the caller's transaction:
    each offer holds a seat (taken here, all at once) for WAITLIST_OFFER_MINUTES, its
    student gets `waitlist.offer` (every tab) and an email; everyone behind moves up
    (announced by a job). Returns how many offers were made."""
    course = (
        Course.objects.select_for_update()
        .only("id", "slug", "capacity", "seats_taken", "published_at")
        .get(pk=course_id)
    )
    if course.published_at is None:
        return 0
    room = limit if course.capacity is None else min(limit, course.capacity - course.seats_taken)
    if room <= 0:
        return 0
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .filter(course_id=course_id, status=WaitlistStatus.WAITING)
        .order_by("id")
        .only("id", "user_id")[:room]
    )
    if not entries or course_seats_hold(course_id=course_id, count=len(entries)) is None:
        return 0
    now = timezone.now()
    expires = now + offer_ttl()
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
        status=WaitlistStatus.OFFERED, offered_at=now, offer_expires_at=expires
    )
    offer = WaitlistOffer(course=course.slug, offer_expires_at=iso(expires))
    # After commit, in the order registered here: every offer reaches its student first (it
    # holds a seat for a while), then the announcement of the new places is queued, then
    # the offer emails (loadtests/waitlist_bench.py: interleaved with the emails' outbox
    # round trips, 100 offers took about 1 s to all arrive and the announcement waited).
    publish_to_users(events=[(entry.user_id, offer) for entry in entries])
    job_enqueue_on_commit(ANNOUNCE_JOB, course_id)
    for entry in entries:
        job_enqueue_on_commit(OFFER_EMAIL_JOB, entry.pk)
    waiting_announce(course_id=course_id, slug=course.slug)
    log.info("waitlist.offers_made", course=course_id, offers=len(entries))
    return len(entries)


class OfferUse(Enum):
    USED = "used"  # the offer's seat is the enrollment's now
    LAPSED = "lapsed"  # the student's offer ran out
    WAITING = "waiting"  # in line without an offer: a free seat ends the place
    NONE = "none"


@dataclass(frozen=True)
class Claim:
    use: OfferUse
    entry_id: int | None = None


def offer_use(*, course_id: int, user_id: int, enrollment_id: int) -> Claim:
    """In the enrollment's transaction, before any seat is taken: a standing offer gives
    its held seat to the enrollment (the caller takes none). Its row lock orders this
    against the offer's expiry: whichever comes second finds it decided. One unlocked
    read when the student has no place (the common case); a waiting place is only locked
    after the seat is taken (line_leave_enrolled), so this path keeps the course-first
    lock order for waiting entries."""
    recent = timezone.now() - offer_ttl()
    places = list(
        WaitlistEntry.objects.filter(course_id=course_id, user_id=user_id)
        .filter(
            Q(status__in=WAITLIST_LIVE) | Q(status=WaitlistStatus.EXPIRED, ended_at__gte=recent)
        )
        .order_by("-id")
        .values_list("id", "status")
    )
    live = next(((pk, status) for pk, status in places if status in WAITLIST_LIVE), None)
    if live is not None and live[1] == WaitlistStatus.WAITING:
        return Claim(OfferUse.WAITING, live[0])
    if live is not None:
        entry = WaitlistEntry.objects.select_for_update().filter(pk=live[0]).first()
        standing = (
            entry is not None
            and entry.status == WaitlistStatus.OFFERED
            and entry.offer_expires_at is not None
            and entry.offer_expires_at > timezone.now()
        )
        if standing and entry is not None:
            _end(entry, WaitlistStatus.ENROLLED, enrollment_id=enrollment_id)
            log.info("waitlist.offer_used", entry=entry.pk, enrollment=enrollment_id)
            return Claim(OfferUse.USED, entry.pk)
        return Claim(OfferUse.LAPSED)  # ran out (or expired meanwhile)
    return Claim(OfferUse.LAPSED if places else OfferUse.NONE)


def line_leave_enrolled(*, entry_id: int, course_id: int, slug: str, enrollment_id: int) -> None:
    """A waiting student enrolled in a seat that was free (after the seat was taken, in
    the enrollment's transaction): their place ends; those behind move up."""
    ended = WaitlistEntry.objects.filter(pk=entry_id, status=WaitlistStatus.WAITING).update(
        status=WaitlistStatus.ENROLLED, ended_at=timezone.now(), enrollment_id=enrollment_id
    )
    if ended:
        job_enqueue_on_commit(ANNOUNCE_JOB, course_id)
        waiting_announce(course_id=course_id, slug=slug)


def offers_expire(*, limit: int = 500) -> int:
    """Expire the offers that ran out (beat, every few seconds), each in its own
    transaction, and offer seats that are free while students wait (a seat given up in
    a moment the line was empty, a capacity raised beyond OFFERS_PER_RUN). Returns how
    many offers expired."""
    due = list(
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.OFFERED, offer_expires_at__lte=timezone.now()
        )
        .order_by("offer_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = sum(_offer_expire(pk) for pk in due)
    for course_id in _courses_with_room_and_line():
        with transaction.atomic():
            offers_make(course_id=course_id)
    if expired:
        log.info("waitlist.offers_expired", count=expired)
    return expired


@transaction.atomic
def _offer_expire(entry_id: int) -> bool:
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(pk=entry_id)
        .first()
    )
    now = timezone.now()
    if entry is None or entry.status != WaitlistStatus.OFFERED:
        return False
    if entry.offer_expires_at is not None and entry.offer_expires_at > now:
        return False
    _end(entry, WaitlistStatus.EXPIRED)
    publish_to_user(user_id=entry.user_id, event=WaitlistExpired(course=entry.course.slug))
    seat_free(course_id=entry.course_id)
    log.info("waitlist.offer_expired", entry=entry.pk, course=entry.course_id)
    return True


def _courses_with_room_and_line(limit: int = 100) -> list[int]:
    return list(
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING, course__published_at__isnull=False
        )
        .filter(Q(course__capacity__isnull=True) | Q(course__seats_taken__lt=F("course__capacity")))
        .values_list("course_id", flat=True)
        .distinct()[:limit]
    )


@transaction.atomic
def positions_announce(*, course_id: int) -> int:
    """`waitlist.position` to each waiting student whose place is not the one last told
    (the job after any change to the line). Returns how many were told."""
    line = list(
        WaitlistEntry.objects.select_for_update()
        .filter(course_id=course_id, status=WaitlistStatus.WAITING)
        .order_by("id")
        .values_list("id", "user_id", "announced_position")
    )
    moved = [
        (entry_id, user_id, position)
        for position, (entry_id, user_id, announced) in enumerate(line, start=1)
        if announced != position
    ]
    if not moved:
        return 0
    slug = Course.objects.values_list("slug", flat=True).get(pk=course_id)
    entries = [
        WaitlistEntry(pk=entry_id, announced_position=position) for entry_id, _, position in moved
    ]
    WaitlistEntry.objects.bulk_update(entries, ["announced_position"], batch_size=500)
    publish_to_users(
        events=[
            (user_id, WaitlistPosition(course=slug, position=position))
            for _, user_id, position in moved
        ]
    )
    return len(moved)


def places_end_for_erasure(*, user: User) -> int:
    """The account is being erased (in its transaction): its places end, and a seat an
    offer of it held passes to the next in line (the cascade that deletes its entries
    would otherwise strand that seat). Offers first (entry, then course: the entry-first
    lock order), then places in line. Returns how many places ended."""
    live = WaitlistEntry.objects.filter(user=user).select_related("course")
    offers = list(live.select_for_update(of=("self",)).filter(status=WaitlistStatus.OFFERED))
    for entry in offers:
        _end(entry, WaitlistStatus.LEFT)
        seat_free(course_id=entry.course_id)
    waiting = list(live.filter(status=WaitlistStatus.WAITING))
    for entry in waiting:
        if WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistStatus.WAITING).update(
            status=WaitlistStatus.LEFT, ended_at=timezone.now()
        ):
            job_enqueue_on_commit(ANNOUNCE_JOB, entry.course_id)
            waiting_announce(course_id=entry.course_id, slug=entry.course.slug)
    return len(offers) + len(waiting)


def line_list(*, course: Course) -> list[dict]:
    """The course's line for its instructors: offers held first, then in order."""
    entries = (
        WaitlistEntry.objects.filter(course=course, status__in=WAITLIST_LIVE)
        .select_related("user")
        .order_by("id")
    )
    rows, position = [], 0
    for entry in entries:
        if entry.status == WaitlistStatus.WAITING:
            position += 1
        rows.append(
            {
                "name": entry.user.name,
                "email": entry.user.email,
                "status": entry.status,
                "position": position if entry.status == WaitlistStatus.WAITING else None,
                "joined_at": iso(entry.joined_at),
                "offer_expires_at": iso(entry.offer_expires_at),
            }
        )
    rows.sort(key=lambda row: row["status"] != WaitlistStatus.OFFERED)
    return rows
