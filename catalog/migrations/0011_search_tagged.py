"""Search ranks by the field that holds the words (catalog.search.ddl, catalog.search.postgres):
one tagged vector (`search_tags`: every word prefixed with its field) in a published-only
GIN index with the category and level filters beside it (btree_gin), a btree per order a
page is read in, and an estimate function for broad totals. The weighted search_vector and
title_vector it replaces are dropped. PostgreSQL only: SQLite's FTS5 table already has a
column per field."""

import importlib

from django.db import migrations

from catalog.search import ddl

V1 = importlib.import_module("catalog.migrations.0002_course_search")

PG_FORWARD = [*ddl.PG_TAGGED_FORWARD, "ANALYZE catalog_course"]

PG_BACKWARD = [
    ddl.PG_SEARCH_VECTOR,
    ddl.PG_SEARCH_VECTOR_INDEX,
    """
    ALTER TABLE catalog_course ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, coalesce(title, ''))
    ) STORED
    """,
    V1.PG_COLUMNS[2],  # course_title_vector_idx
    *ddl.PG_TERMS_FUNCTIONS,
    "DROP FUNCTION IF EXISTS catalog_search_estimate(tsquery, text, text, numeric)",
    *(f"DROP INDEX IF EXISTS {name}" for name in ddl.PG_ORDER_INDEXES),
    "ALTER TABLE catalog_course DROP COLUMN search_tags",  # and course_search_idx
    "DROP FUNCTION IF EXISTS catalog_search_tagged(text, text)",
    "ALTER TABLE catalog_course RESET (toast_tuple_target)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_search_wider"),
    ]

    operations = [
        V1.VendorSQL("postgresql", PG_FORWARD, PG_BACKWARD),
    ]
