# The event log's models now belong to the platform app portal.events (its 0001 takes the
# tables over); they leave this app's state only: no table is dropped.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0001_event_log"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="UserEvent"),
                migrations.DeleteModel(name="EventCursor"),
            ],
            database_operations=[],
        ),
    ]
