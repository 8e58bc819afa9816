"""FailedJob moved to the platform's jobs app (portal.jobs): the model leaves this app's
state only; its table and rows are taken over by jobs.0001_initial."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("enrollment", "0002_pipeline"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="FailedJob")],
            database_operations=[],
        ),
    ]
