"""Search finds courses by their category, level, instructors' names and module and lesson
titles too (catalog.search.ddl): on PostgreSQL a trigger-kept `search_extra` column joins
the generated search_vector at weight D and the word list; on SQLite the FTS5 table gains an
`extra` column and becomes a table of its own, rewritten by triggers."""

import importlib

from django.db import migrations

from catalog.search import ddl

# The first search schema (migration 0002), what this one goes back to.
V1 = importlib.import_module("catalog.migrations.0002_course_search")

PG_FORWARD = [
    "DROP TRIGGER IF EXISTS catalog_course_terms_update ON catalog_course",
    "ALTER TABLE catalog_course DROP COLUMN search_vector",  # and its index
    "ALTER TABLE catalog_course ADD COLUMN search_extra text NOT NULL DEFAULT ''",
    ddl.PG_EXTRA_FUNCTION,
    "UPDATE catalog_course SET search_extra = catalog_search_extra(id)",
    ddl.PG_SEARCH_VECTOR,
    ddl.PG_SEARCH_VECTOR_INDEX,
    ddl.PG_EXTRA_REFRESH,
    *ddl.PG_EXTRA_TRIGGERS,
    *ddl.PG_TERMS_FUNCTIONS,
    ddl.PG_TERMS_UPDATE_TRIGGER,
    ddl.PG_TERMS_FILL.format(source="catalog_course"),
]

PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_course_terms_update ON catalog_course",
    *ddl.PG_EXTRA_DROP,
    "ALTER TABLE catalog_course DROP COLUMN search_vector",
    "ALTER TABLE catalog_course DROP COLUMN search_extra",
    """
    ALTER TABLE catalog_course ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(summary, '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')
    ) STORED
    """,
    ddl.PG_SEARCH_VECTOR_INDEX,
    *(
        V1.PG_TERMS[number].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        for number in (2, 4)  # catalog_search_terms_add(), catalog_search_terms_add_row()
    ),
    V1.PG_TERMS[5],  # the edit trigger on title and summary
]

SQLITE_FORWARD = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in V1.SQLITE_TRIGGERS),
    f"DROP TABLE IF EXISTS {V1.SQLITE_VOCAB}",
    f"DROP TABLE IF EXISTS {V1.SQLITE_FTS}",
    *ddl.SQLITE_FORWARD,
]

SQLITE_BACKWARD = [*ddl.SQLITE_BACKWARD, *V1.SQLITE_FORWARD]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_search_synonyms"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        V1.VendorSQL("postgresql", PG_FORWARD, PG_BACKWARD),
        V1.VendorSQL("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
    ]
