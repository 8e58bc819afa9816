# The event log moves from the realtime app to this platform app. Its tables already
# exist (realtime 0001_event_log created them): this migration only takes them over in
# Django's state; 0002 then gives them this app's table names.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("realtime", "0001_event_log"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EventCursor",
                    fields=[
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        ("last_seq", models.PositiveBigIntegerField(default=0)),
                    ],
                    options={"db_table": "realtime_eventcursor"},
                ),
                migrations.CreateModel(
                    name="UserEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("seq", models.PositiveBigIntegerField()),
                        ("type", models.CharField(max_length=40)),
                        ("payload", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "realtime_userevent",
                        "ordering": ["user", "seq"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "seq"), name="user_event_seq_unique"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
