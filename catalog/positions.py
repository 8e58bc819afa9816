"""Keeping modules (per course) and lessons (per module) numbered 1…n, contiguous and
unique, through inserts, moves and deletes.

The unique (parent, position) constraints stay *immediate* (not DEFERRABLE): a clash is
reported by the statement that caused it, not at COMMIT where no service could turn it into
an answer, and the embedded SQLite default, which has no deferrable unique constraints,
behaves the same as PostgreSQL. A reorder is a permutation, and PostgreSQL checks an
immediate unique index row by row, so "swap 1 and 2" in one UPDATE can collide half-way.
`renumber` therefore writes in two statements inside the caller's transaction:

1. the rows whose position changes jump out of the way, to `position + PARKING_OFFSET`
   (distinct, and above every real position);
2. one UPDATE … CASE gives each its final position and bumps its `version` (it moved).

Rows that keep their position are not touched, so their versions stay. Callers lock the
parent row (the course for modules and for moving lessons between modules) first, so two
concurrent reorders of the same siblings run one after the other, each reading positions
the other has committed (docs/adr/0015-authoring-versions.md).
"""

from collections.abc import Sequence

from django.db.models import Case, F, Model, QuerySet, Value, When

# Far above any real position (a module holds hundreds of lessons at most); three of them
# (a parked row, lifted again) stay far below the integer column's limit.
PARKING_OFFSET = 1_000_000


def clamp(position: int | None, *, count: int) -> int:
    """A 1-based position among `count` places, clamped; None: the last place."""
    if position is None:
        return count
    return max(1, min(position, count))


def renumber(siblings: QuerySet, order: Sequence[int | None]) -> list[int]:
    """Give the rows of `siblings` whose ids are `order` the positions 1…len(order) in that
    order; a None leaves its position free (for a row about to be inserted there). Rows of
    `siblings` missing from `order` must have left or been parked. Returns the ids that
    moved (their versions were bumped)."""
    final = {pk: index for index, pk in enumerate(order, start=1) if pk is not None}
    current = dict(siblings.filter(pk__in=final).values_list("pk", "position"))
    moved = [pk for pk in final if current.get(pk) != final[pk]]
    if not moved:
        return []
    model: type[Model] = siblings.model
    rows = model._default_manager.filter(pk__in=moved)
    rows.update(position=F("position") + PARKING_OFFSET)
    rows.update(
        position=Case(*(When(pk=pk, then=Value(final[pk])) for pk in moved)),
        version=F("version") + 1,
    )
    return moved


def park(row: Model) -> None:
    """Move one row out of its siblings' numbering (before it leaves for other siblings),
    without counting that as a change of its own. It parks two offsets up: when it joins
    its new siblings, `renumber` lifts it by one more offset in the same statement that
    lifts them by one, and the two ranges never meet (a row parked one offset up at p
    would meet a new sibling at p lifted to p + PARKING_OFFSET)."""
    type(row)._default_manager.filter(pk=row.pk).update(position=F("position") + 2 * PARKING_OFFSET)
