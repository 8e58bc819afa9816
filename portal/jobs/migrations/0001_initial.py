"""FailedJob moves here from the enrollment app: its table (enrollment_failedjob) and rows
stay where they are; this migration only records the model under the new app, and moves
its content type along so admin permissions and log entries keep pointing at it."""

from django.db import migrations, models


def content_type_move(apps, schema_editor):
    _content_type_relabel(apps, schema_editor, old="enrollment", new="jobs")


def content_type_move_back(apps, schema_editor):
    _content_type_relabel(apps, schema_editor, old="jobs", new="enrollment")


def _content_type_relabel(apps, schema_editor, *, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=new, model="failedjob").exists():
        content_types.filter(app_label=old, model="failedjob").update(app_label=new)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("enrollment", "0002_pipeline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FailedJob",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("task_name", models.CharField(max_length=200)),
                        ("task_id", models.CharField(blank=True, max_length=255)),
                        ("args", models.JSONField(default=list)),
                        ("kwargs", models.JSONField(default=dict)),
                        ("queue", models.CharField(blank=True, max_length=64)),
                        ("exception", models.TextField()),
                        ("traceback", models.TextField(blank=True)),
                        ("failed_at", models.DateTimeField(auto_now_add=True)),
                        ("retried_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "ordering": ["-failed_at"],
                        "db_table": "enrollment_failedjob",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back, elidable=True),
    ]
