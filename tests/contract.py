"""Field names the portal's public contract fixes, shared by the tests that check shapes."""

COURSE_KEYS = frozenset(
    {
        "id",
        "slug",
        "title",
        "summary",
        "category",
        "level",
        "price",
        "currency",
        "instructor",
        "capacity",
        "seats_taken",
        "rating",
        "published_at",
    }
)
ENROLLMENT_KEYS = frozenset(
    {"id", "number", "status", "course", "student", "payment", "progress", "created_at"}
)
