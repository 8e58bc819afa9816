# Renames the event log's tables after their new app (rows, indexes and constraints stay)
# and carries their content types (and so any permission granted on them) along.

from django.db import migrations

MODELS = ("eventcursor", "userevent")


def move_content_types(apps, schema_editor, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue  # already created for the target: the source's one is stale, leave it
        ContentType.objects.using(db).filter(app_label=source, model=model).update(
            app_label=target
        )


def forwards(apps, schema_editor) -> None:
    move_content_types(apps, schema_editor, "realtime", "events")


def backwards(apps, schema_editor) -> None:
    move_content_types(apps, schema_editor, "events", "realtime")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="eventcursor", table=None),
        migrations.AlterModelTable(name="userevent", table=None),
        migrations.RunPython(forwards, backwards),
    ]
