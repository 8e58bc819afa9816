"""Migration 0005: lesson HTML rendered before code blocks were focusable is rendered
again from its Markdown; other lessons are left as they are."""

import importlib

import pytest
from django.apps import apps

from catalog.models import Lesson
from catalog.services import lesson_save
from tests.factories import make_course

pytestmark = pytest.mark.django_db

migration = importlib.import_module("catalog.migrations.0005_focusable_code_blocks")


def test_code_blocks_saved_before_are_rendered_again():
    course = make_course(modules=1, lessons_per_module=2)
    code, prose = Lesson.objects.filter(module__course=course).order_by("position")
    code.body = "Run it:\n\n```python\nprint('hi')\n```\n"
    prose.body = "Just **words**."
    for lesson in (code, prose):
        lesson_save(lesson=lesson)
    old = code.body_html.replace(' tabindex="0"', "")
    Lesson.objects.filter(pk=code.pk).update(body_html=old)
    Lesson.objects.filter(pk=prose.pk).update(body_html="<p>kept as it was</p>")

    migration.render_code_blocks_again(apps, None)

    code.refresh_from_db()
    prose.refresh_from_db()
    assert old != code.body_html and '<pre class="highlight" tabindex="0">' in code.body_html
    assert prose.body_html == "<p>kept as it was</p>"
