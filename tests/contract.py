"""Field names the portal's public contract fixes, shared by the tests that check shapes.

They derive from the one definition of each shape (catalog.shapes, enrollment.shapes); the
values themselves are pinned by the tests that compare whole answers (e.g.
tests/catalog/test_course_list.py).
"""

from catalog import shapes as catalog_shapes
from enrollment import shapes as enrollment_shapes

COURSE_KEYS = frozenset(catalog_shapes.COURSE_KEYS)
LESSON_KEYS = frozenset(catalog_shapes.LESSON_KEYS)
ENROLLMENT_KEYS = frozenset(enrollment_shapes.ENROLLMENT_KEYS)
