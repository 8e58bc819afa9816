"""Full-text search objects: generated tsvector columns, GIN and trigram indexes and the
term table on PostgreSQL; an FTS5 table kept by triggers on SQLite (catalog.search.ddl)."""

from django.db import migrations

from catalog.search import ddl


class VendorSQL(migrations.RunSQL):
    """RunSQL that runs on one database vendor only and is a no-op on the others."""

    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        VendorSQL("postgresql", ddl.PG_FORWARD, ddl.PG_BACKWARD),
        VendorSQL("sqlite", ddl.SQLITE_FORWARD, ddl.SQLITE_BACKWARD),
    ]
