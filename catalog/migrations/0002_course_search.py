"""Full-text search objects: generated tsvector columns, GIN and trigram indexes and the
term table on PostgreSQL; an FTS5 table kept by triggers on SQLite.

The statements are those of the first search schema, kept here as they were applied
(catalog.search.ddl describes the current objects; migration 0010 moves from these to them).
"""

from django.db import migrations

PG_CONFIG = "simple"

PG_COLUMNS = [
    """
    ALTER TABLE catalog_course
        ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('simple'::regconfig, coalesce(summary, '')), 'B')
            || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')
        ) STORED,
        ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
            to_tsvector('simple'::regconfig, coalesce(title, ''))
        ) STORED
    """,
    # fastupdate off: searches never scan a pending list; catalog writes are rare.
    "CREATE INDEX course_search_vector_idx ON catalog_course"
    " USING gin (search_vector) WITH (fastupdate = off)",
    "CREATE INDEX course_title_vector_idx ON catalog_course"
    " USING gin (title_vector) WITH (fastupdate = off)",
    "CREATE INDEX course_title_trgm_idx ON catalog_course USING gin (title gin_trgm_ops)",
]

# Words of titles and summaries (weights A and B). Sorted inserts: concurrent writers take
# the unique-index waits in one order, so they cannot deadlock on each other.
PG_TERMS_FILL = """
    INSERT INTO catalog_search_term (term)
    SELECT DISTINCT word FROM {source}, unnest(tsvector_to_array(ts_filter(search_vector, '{{a,b}}'))) AS word
    ORDER BY word
    ON CONFLICT (term) DO NOTHING
"""

PG_TERMS = [
    "CREATE TABLE catalog_search_term (term text PRIMARY KEY)",
    "CREATE INDEX catalog_search_term_trgm_idx ON catalog_search_term USING gin (term gin_trgm_ops)",
    f"""
    CREATE FUNCTION catalog_search_terms_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {PG_TERMS_FILL.format(source="new_rows")};
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER catalog_course_terms_insert AFTER INSERT ON catalog_course
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_search_terms_add()
    """,
    # A row trigger for edits: seat and stats updates do not name these columns, so they
    # never run it (transition tables cannot be combined with a column list).
    """
    CREATE FUNCTION catalog_search_terms_add_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO catalog_search_term (term)
        SELECT DISTINCT word
        FROM unnest(tsvector_to_array(ts_filter(NEW.search_vector, '{a,b}'))) AS word
        ORDER BY word
        ON CONFLICT (term) DO NOTHING;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER catalog_course_terms_update AFTER UPDATE OF title, summary ON catalog_course
        FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary)
        EXECUTE FUNCTION catalog_search_terms_add_row()
    """,
    PG_TERMS_FILL.format(source="catalog_course"),
]

PG_FORWARD = ["CREATE EXTENSION IF NOT EXISTS pg_trgm", *PG_COLUMNS, *PG_TERMS]

PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_course_terms_update ON catalog_course",
    "DROP TRIGGER IF EXISTS catalog_course_terms_insert ON catalog_course",
    "DROP FUNCTION IF EXISTS catalog_search_terms_add_row()",
    "DROP FUNCTION IF EXISTS catalog_search_terms_add()",
    "DROP TABLE IF EXISTS catalog_search_term",
    "DROP INDEX IF EXISTS course_title_trgm_idx",
    "ALTER TABLE catalog_course DROP COLUMN IF EXISTS title_vector,"
    " DROP COLUMN IF EXISTS search_vector",
]

SQLITE_FTS = "catalog_course_fts"
SQLITE_VOCAB = "catalog_course_fts_terms"

SQLITE_TABLES = [
    # External content: the text stays in catalog_course, FTS5 keeps only its index.
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS} USING fts5(
        title, summary, description,
        content='catalog_course', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
    )
    """,
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_VOCAB} USING fts5vocab({SQLITE_FTS}, 'col')",
]

# name → statement. A table rebuilt by a later SQLite migration loses its triggers:
# catalog.apps re-creates missing ones after every migrate (and rebuilds the index).
SQLITE_TRIGGERS = {
    "catalog_course_fts_insert": f"""
        CREATE TRIGGER IF NOT EXISTS catalog_course_fts_insert AFTER INSERT ON catalog_course
        BEGIN
            INSERT INTO {SQLITE_FTS} (rowid, title, summary, description)
            VALUES (new.id, new.title, new.summary, new.description);
        END
    """,
    "catalog_course_fts_delete": f"""
        CREATE TRIGGER IF NOT EXISTS catalog_course_fts_delete AFTER DELETE ON catalog_course
        BEGIN
            INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, title, summary, description)
            VALUES ('delete', old.id, old.title, old.summary, old.description);
        END
    """,
    "catalog_course_fts_update": f"""
        CREATE TRIGGER IF NOT EXISTS catalog_course_fts_update
        AFTER UPDATE OF title, summary, description ON catalog_course
        BEGIN
            INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, title, summary, description)
            VALUES ('delete', old.id, old.title, old.summary, old.description);
            INSERT INTO {SQLITE_FTS} (rowid, title, summary, description)
            VALUES (new.id, new.title, new.summary, new.description);
        END
    """,
}

SQLITE_REBUILD = f"INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}) VALUES ('rebuild')"

SQLITE_FORWARD = [*SQLITE_TABLES, *SQLITE_TRIGGERS.values(), SQLITE_REBUILD]

SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    f"DROP TABLE IF EXISTS {SQLITE_VOCAB}",
    f"DROP TABLE IF EXISTS {SQLITE_FTS}",
]


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
        VendorSQL("postgresql", PG_FORWARD, PG_BACKWARD),
        VendorSQL("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
    ]
