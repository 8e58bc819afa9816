"""Lessons' code blocks become focusable (tabindex="0", set by the sanitiser since this
change): rendered HTML saved before it is rendered again from its Markdown."""

from django.db import migrations


def render_code_blocks_again(apps, schema_editor):
    from catalog.content import markdown_render  # today's renderer: the point of this step

    lesson_model = apps.get_model("catalog", "Lesson")
    stale = lesson_model.objects.filter(body_html__contains="<pre").exclude(
        body_html__contains='tabindex="0"'
    )
    batch = []
    for lesson in stale.only("pk", "body").iterator(chunk_size=500):
        lesson.body_html = markdown_render(lesson.body)
        batch.append(lesson)
        if len(batch) == 500:
            lesson_model.objects.bulk_update(batch, ["body_html"])
            batch.clear()
    lesson_model.objects.bulk_update(batch, ["body_html"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_authoring_versions")]

    operations = [migrations.RunPython(render_code_blocks_again, migrations.RunPython.noop)]
