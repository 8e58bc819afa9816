"""The dead-letter table takes this app's name: enrollment_failedjob -> jobs_failedjob."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0001_initial"),
        # Enrollment forgets the model first, so rolling enrollment back to 0002 renames
        # the table back before enrollment claims it again.
        ("enrollment", "0003_failedjob_to_jobs"),
    ]

    operations = [
        migrations.AlterModelTable(name="failedjob", table=None),
    ]
