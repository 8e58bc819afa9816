# ruff: noqa: S608 - DDL assembled from constants; no input reaches it.
"""The database objects behind the search backends, one list per database vendor.

Migrations apply these statements (0002 created the first schema, with its statements
frozen in it; 0010 and 0011 moved to the one described here); the ORM never sees the
objects (no model field), so Django's inserts and updates leave them to the database. A change here
needs a new migration that applies it.

What a course is found by: its title, summary and description, and "the rest": its
category and level, its instructors' names and its module and lesson titles.

PostgreSQL (migration 0011 built the third schema on 0010's `search_extra`):
- `search_extra`: the instructors' names and the module and lesson titles of a course, in
  one text column that triggers on catalog_courseinstructor, catalog_module, catalog_lesson
  and accounts_user keep current (catalog_search_extra() computes it). Bulk inserts and
  deletes run the triggers once per statement; edits only when a title, a name or a
  parent changes.
- `search_tags`: every word of the course tagged with its field (1 title, 2 summary,
  3 description, 4 the rest: category, level, search_extra) and with 0 ("any field"), a
  STORED generated column, so every committed change is searchable at once and never
  before its commit. Its GIN index covers published courses only, with category and level
  beside the vector (btree_gin); a btree per page order (PG_ORDER_INDEXES) lets a broad
  query read its first page in order. catalog_search_estimate() asks the planner how many
  courses a search matches, without running it.
- a trigram index on the title (the typo fallback's `%>` operator) and `catalog_search_term`,
  the words of everything but descriptions, with a trigram index: typos are corrected
  against it ("pyhton" → "python"), as the pg_trgm documentation suggests for spelling
  suggestions. Triggers add new words; nothing removes words (a stale word only costs a
  correction that finds nothing), and rebuild() recomputes the table.
- The 'simple' configuration: no stemming, no stop words, so a prefix of any word matches
  that word (stemmed lexemes are not prefixes of what people type).
- Migration 0010's weighted `search_vector` (the statements below PG_EXTRA_DROP) is what
  0011 replaced; they stay here for 0010 and for going back to it.

Note: a migration that changes the type of a column search_tags reads must drop it first
and add it again (PG_SEARCH_TAGS, PG_SEARCH_TAGS_INDEX) afterwards.

SQLite: an FTS5 table of its own (title, summary, description, extra) with a row per
course, which triggers on the same tables rewrite whenever a course's text changes, and an
fts5vocab table listing its terms for typo correction. Triggers that read other tables
would break Django's table rebuilds (SQLite checks every trigger when a table is renamed),
so they are dropped before migrations run and created again after (catalog.search.sqlite).
"""

PG_CONFIG = "simple"

# --- PostgreSQL ------------------------------------------------------------------------------

PG_EXTRA_FUNCTION = """
    CREATE OR REPLACE FUNCTION catalog_search_extra(course bigint) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT concat_ws(' ',
            (SELECT string_agg(u.name, ' ' ORDER BY ci.position, ci.id)
             FROM catalog_courseinstructor ci JOIN accounts_user u ON u.id = ci.user_id
             WHERE ci.course_id = course),
            (SELECT string_agg(m.title, ' ' ORDER BY m.position, m.id)
             FROM catalog_module m WHERE m.course_id = course),
            (SELECT string_agg(l.title, ' ' ORDER BY m.position, l.position, l.id)
             FROM catalog_module m JOIN catalog_lesson l ON l.module_id = m.id
             WHERE m.course_id = course))
    $$
"""

# Rewrites search_extra of these courses where it changed, in id order (concurrent
# refreshes lock rows in one order).
PG_EXTRA_REFRESH = """
    CREATE OR REPLACE FUNCTION catalog_search_extra_refresh(courses bigint[]) RETURNS void
    LANGUAGE sql AS $$
        UPDATE catalog_course c SET search_extra = fresh.extra
        FROM (
            SELECT locked.id, catalog_search_extra(locked.id) AS extra
            FROM (
                SELECT id FROM catalog_course WHERE id = ANY(courses) ORDER BY id FOR UPDATE
            ) locked
        ) fresh
        WHERE c.id = fresh.id AND c.search_extra IS DISTINCT FROM fresh.extra
    $$
"""

# table → (the course ids of the rows in the transition table `changed`, the course ids of
# an updated row, the columns whose update matters).
_PG_SOURCES = {
    "catalog_courseinstructor": (
        "SELECT course_id FROM changed",
        "ARRAY[OLD.course_id, NEW.course_id]",
        "course_id, user_id",
    ),
    "catalog_module": (
        "SELECT course_id FROM changed",
        "ARRAY[OLD.course_id, NEW.course_id]",
        "course_id, title",
    ),
    "catalog_lesson": (
        "SELECT m.course_id FROM catalog_module m WHERE m.id IN (SELECT module_id FROM changed)",
        "ARRAY(SELECT course_id FROM catalog_module WHERE id IN (OLD.module_id, NEW.module_id))",
        "module_id, title",
    ),
}


def _pg_source_triggers(table: str, rows: str, updated: str, columns: str) -> list[str]:
    changed = " OR ".join(
        f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns.split(", ")
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION {table}_search_rows() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM catalog_search_extra_refresh(ARRAY({rows}));
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION {table}_search_row() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM catalog_search_extra_refresh({updated});
            RETURN NULL;
        END $$
        """,
        # Inserts and deletes: once per statement (bulk loads), with the rows it touched.
        f"""
        CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_search_rows()
        """,
        f"""
        CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_search_rows()
        """,
        # Edits: per row, only when what search reads changed (a column list and a
        # transition table cannot go together).
        f"""
        CREATE TRIGGER {table}_search_update AFTER UPDATE OF {columns} ON {table}
            FOR EACH ROW WHEN ({changed})
            EXECUTE FUNCTION {table}_search_row()
        """,
    ]


PG_EXTRA_TRIGGERS = [
    *(
        statement
        for table, source in _PG_SOURCES.items()
        for statement in _pg_source_triggers(table, *source)
    ),
    """
    CREATE OR REPLACE FUNCTION accounts_user_search_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM catalog_search_extra_refresh(
            ARRAY(SELECT course_id FROM catalog_courseinstructor WHERE user_id = NEW.id)
        );
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER accounts_user_search_update AFTER UPDATE OF name ON accounts_user
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION accounts_user_search_row()
    """,
]

PG_EXTRA_DROP = [
    *(
        statement
        for table in _PG_SOURCES
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_search_insert ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_search_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_search_update ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_search_rows()",
            f"DROP FUNCTION IF EXISTS {table}_search_row()",
        )
    ),
    "DROP TRIGGER IF EXISTS accounts_user_search_update ON accounts_user",
    "DROP FUNCTION IF EXISTS accounts_user_search_row()",
    "DROP FUNCTION IF EXISTS catalog_search_extra_refresh(bigint[])",
    "DROP FUNCTION IF EXISTS catalog_search_extra(bigint)",
]

PG_SEARCH_VECTOR = """
    ALTER TABLE catalog_course ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(summary, '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')
        || setweight(
            to_tsvector(
                'simple'::regconfig,
                coalesce(category, '') || ' ' || coalesce(level, '') || ' '
                || coalesce(search_extra, '')
            ),
            'D'
        )
    ) STORED
"""
# fastupdate off: searches never scan a pending list; catalog writes are rare.
PG_SEARCH_VECTOR_INDEX = (
    "CREATE INDEX course_search_vector_idx ON catalog_course"
    " USING gin (search_vector) WITH (fastupdate = off)"
)

# Words of everything but descriptions (weights A, B and D). Sorted inserts: concurrent
# writers take the unique-index waits in one order, so they cannot deadlock on each other.
PG_TERMS_FILL = """
    INSERT INTO catalog_search_term (term)
    SELECT DISTINCT word FROM {source}, unnest(tsvector_to_array(ts_filter(search_vector, '{{a,b,d}}'))) AS word
    ORDER BY word
    ON CONFLICT (term) DO NOTHING
"""

PG_TERMS_FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION catalog_search_terms_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {PG_TERMS_FILL.format(source="new_rows")};
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION catalog_search_terms_add_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO catalog_search_term (term)
        SELECT DISTINCT word
        FROM unnest(tsvector_to_array(ts_filter(NEW.search_vector, '{a,b,d}'))) AS word
        ORDER BY word
        ON CONFLICT (term) DO NOTHING;
        RETURN NULL;
    END $$
    """,
]

# A row trigger for edits: seat and stats updates do not name these columns, so they never
# run it (transition tables cannot be combined with a column list).
PG_TERMS_UPDATE_TRIGGER = """
    CREATE TRIGGER catalog_course_terms_update
        AFTER UPDATE OF title, summary, category, level, search_extra ON catalog_course
        FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
              OR OLD.category IS DISTINCT FROM NEW.category OR OLD.level IS DISTINCT FROM NEW.level
              OR OLD.search_extra IS DISTINCT FROM NEW.search_extra)
        EXECUTE FUNCTION catalog_search_terms_add_row()
"""

# --- PostgreSQL, third schema (migration 0011): the tagged vector ------------------------------

# Every word of a course tagged with the field it stands in: 1 title, 2 summary,
# 3 description, 4 the rest ("1python", "2python"), and once more with 0, "any field"
# ("0python"). One GIN index then answers "these words within these fields" exactly, so
# ranking tiers (title, then summary, …) are index conditions instead of per-row scores;
# the plain match ("anywhere") is one lexeme per word, as cheap to look up as an untagged
# vector's. No positions: nothing ranks by them.
PG_TAGGED_FUNCTION = """
    CREATE OR REPLACE FUNCTION catalog_search_tagged(tag text, body text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(tag || lexeme), '{}')
        FROM unnest(to_tsvector('simple'::regconfig, coalesce(body, '')))
    $$
"""
PG_SEARCH_TAGS = """
    ALTER TABLE catalog_course ADD COLUMN search_tags tsvector GENERATED ALWAYS AS (
        array_to_tsvector(
            catalog_search_tagged(
                '0',
                title || ' ' || summary || ' ' || description || ' ' || category || ' '
                || level || ' ' || coalesce(search_extra, '')
            )
            || catalog_search_tagged('1', title)
            || catalog_search_tagged('2', summary)
            || catalog_search_tagged('3', description)
            || catalog_search_tagged(
                '4', category || ' ' || level || ' ' || coalesce(search_extra, '')
            )
        )
    ) STORED
"""
# Published courses only, with the category and level filters inside the index (btree_gin):
# a filtered search reads only the rows it answers with. The price stays out: a price
# ceiling spans most of the catalog, so its keys cost more to merge than rows to check.
PG_SEARCH_TAGS_INDEX = (
    "CREATE INDEX course_search_idx ON catalog_course"
    " USING gin (search_tags, category, level) WITH (fastupdate = off)"
    " WHERE published_at IS NOT NULL"
)
# One btree per order a page can be read in (catalog.search.hits SORT_ORDERS), published
# courses only: a broad query reads its first page in order and stops.
PG_ORDER_INDEXES = {
    "course_search_popular_idx": "enrollment_count DESC, rating DESC NULLS LAST, id",
    "course_search_rating_idx": "rating DESC NULLS LAST, enrollment_count DESC, id",
    "course_search_price_idx": "price, enrollment_count DESC, rating DESC NULLS LAST, id",
    "course_search_price_desc_idx": (
        "price DESC, enrollment_count DESC, rating DESC NULLS LAST, id"
    ),
    "course_search_newest_idx": "published_at DESC, id",
}
PG_ORDER_INDEX_STATEMENTS = [
    f"CREATE INDEX {name} ON catalog_course ({columns}) WHERE published_at IS NOT NULL"
    for name, columns in PG_ORDER_INDEXES.items()
]

# The planner's row estimate for a search's matches (EXPLAIN, not running it): the total of
# a broad query, whose exact count would read every match.
PG_ESTIMATE_FUNCTION = """
    CREATE OR REPLACE FUNCTION catalog_search_estimate(
        query tsquery, category text, level text, max_price numeric
    ) RETURNS bigint
    LANGUAGE plpgsql AS $$  -- volatile: EXPLAIN may only run in a volatile function
    DECLARE
        statement text := 'SELECT 1 FROM catalog_course c WHERE c.published_at IS NOT NULL';
        plan json;
    BEGIN
        IF query IS NOT NULL THEN
            statement := statement || ' AND c.search_tags @@ ' || quote_literal(query::text)
                || '::tsquery';
        END IF;
        IF category IS NOT NULL THEN
            statement := statement || ' AND c.category = ' || quote_literal(category);
        END IF;
        IF level IS NOT NULL THEN
            statement := statement || ' AND c.level = ' || quote_literal(level);
        END IF;
        IF max_price IS NOT NULL THEN
            statement := statement || ' AND c.price <= ' || quote_literal(max_price::text)
                || '::numeric';
        END IF;
        EXECUTE 'EXPLAIN (FORMAT JSON) ' || statement INTO plan;
        RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
    END $$
"""

# The word list from the tagged vector: every field but descriptions.
PG_TAGGED_TERMS_FILL = """
    INSERT INTO catalog_search_term (term)
    SELECT DISTINCT substr(word, 2) FROM {source},
        unnest(tsvector_to_array(search_tags)) AS word
    WHERE left(word, 1) IN ('1', '2', '4')
    ORDER BY 1
    ON CONFLICT (term) DO NOTHING
"""
PG_TAGGED_TERMS_FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION catalog_search_terms_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {PG_TAGGED_TERMS_FILL.format(source="new_rows")};
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION catalog_search_terms_add_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO catalog_search_term (term)
        SELECT DISTINCT substr(word, 2)
        FROM unnest(tsvector_to_array(NEW.search_tags)) AS word
        WHERE left(word, 1) IN ('1', '2', '4')
        ORDER BY 1
        ON CONFLICT (term) DO NOTHING;
        RETURN NULL;
    END $$
    """,
]

PG_TAGGED_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    PG_TAGGED_FUNCTION,
    # The term triggers read search_tags from now on (their columns stay those of 0010).
    *PG_TAGGED_TERMS_FUNCTIONS,
    # Dropped first, so that adding search_tags (a table rewrite) frees their space too.
    "ALTER TABLE catalog_course DROP COLUMN search_vector, DROP COLUMN title_vector",
    # A course row with its vector is about 2 kB, just past the size at which PostgreSQL
    # compresses or moves its largest value out of line: every search would then decompress
    # the vector of each row it checks. Rows stay whole up to a page's half.
    "ALTER TABLE catalog_course SET (toast_tuple_target = 4080)",
    PG_SEARCH_TAGS,
    PG_SEARCH_TAGS_INDEX,
    *PG_ORDER_INDEX_STATEMENTS,
    PG_ESTIMATE_FUNCTION,
]

# --- SQLite ----------------------------------------------------------------------------------

SQLITE_FTS = "catalog_course_fts"
SQLITE_VOCAB = "catalog_course_fts_terms"
SQLITE_COLUMNS = ("title", "summary", "description", "extra")

SQLITE_TABLES = [
    # A table of its own (not external content): a row is rewritten by deleting it by rowid
    # and inserting it again, whatever it held before.
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS} USING fts5(
        {", ".join(SQLITE_COLUMNS)},
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
    )
    """,
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_VOCAB} USING fts5vocab({SQLITE_FTS}, 'col')",
]

# Every course's FTS row, from the course and the rows around it.
SQLITE_ROWS = f"""
    INSERT INTO {SQLITE_FTS} (rowid, {", ".join(SQLITE_COLUMNS)})
    SELECT c.id, c.title, c.summary, c.description,
        c.category || ' ' || c.level
        || ' ' || coalesce((SELECT group_concat(u.name, ' ')
                            FROM catalog_courseinstructor ci
                            JOIN accounts_user u ON u.id = ci.user_id
                            WHERE ci.course_id = c.id), '')
        || ' ' || coalesce((SELECT group_concat(m.title, ' ')
                            FROM catalog_module m WHERE m.course_id = c.id), '')
        || ' ' || coalesce((SELECT group_concat(l.title, ' ')
                            FROM catalog_module m JOIN catalog_lesson l ON l.module_id = m.id
                            WHERE m.course_id = c.id), '')
    FROM catalog_course c
"""


def _sqlite_refresh(courses: str) -> str:
    """Trigger body statements rewriting the FTS rows of the courses `courses` selects."""
    return (
        f"DELETE FROM {SQLITE_FTS} WHERE rowid IN ({courses});\n"
        f"{SQLITE_ROWS} WHERE c.id IN ({courses});"
    )


def _sqlite_trigger(name: str, event: str, body: str) -> str:
    return f"CREATE TRIGGER IF NOT EXISTS {name} {event}\nBEGIN\n{body}\nEND"


_LESSON_COURSE = "SELECT course_id FROM catalog_module WHERE id = {row}.module_id"

# name → statement. catalog.search.sqlite drops these before migrations and creates the
# missing ones after (then rebuilds the index).
SQLITE_TRIGGERS = {
    "catalog_course_fts_insert": _sqlite_trigger(
        "catalog_course_fts_insert",
        "AFTER INSERT ON catalog_course",
        _sqlite_refresh("new.id"),
    ),
    "catalog_course_fts_update": _sqlite_trigger(
        "catalog_course_fts_update",
        "AFTER UPDATE OF title, summary, description, category, level ON catalog_course",
        _sqlite_refresh("old.id, new.id"),
    ),
    "catalog_course_fts_delete": _sqlite_trigger(
        "catalog_course_fts_delete",
        "AFTER DELETE ON catalog_course",
        f"DELETE FROM {SQLITE_FTS} WHERE rowid = old.id;",
    ),
    **{
        f"{table}_fts_{event.split()[1].lower()}": _sqlite_trigger(
            f"{table}_fts_{event.split()[1].lower()}",
            f"{event} ON {table}",
            _sqlite_refresh(courses),
        )
        for table, events in {
            "catalog_courseinstructor": [
                ("AFTER INSERT", "new.course_id"),
                ("AFTER DELETE", "old.course_id"),
                ("AFTER UPDATE OF course_id, user_id", "old.course_id, new.course_id"),
            ],
            "catalog_module": [
                ("AFTER INSERT", "new.course_id"),
                ("AFTER DELETE", "old.course_id"),
                ("AFTER UPDATE OF course_id, title", "old.course_id, new.course_id"),
            ],
            "catalog_lesson": [
                ("AFTER INSERT", _LESSON_COURSE.format(row="new")),
                ("AFTER DELETE", _LESSON_COURSE.format(row="old")),
                (
                    "AFTER UPDATE OF module_id, title",
                    f"{_LESSON_COURSE.format(row='old')} UNION {_LESSON_COURSE.format(row='new')}",
                ),
            ],
            "accounts_user": [
                (
                    "AFTER UPDATE OF name",
                    "SELECT course_id FROM catalog_courseinstructor WHERE user_id = new.id",
                ),
            ],
        }.items()
        for event, courses in events
    },
}

SQLITE_REBUILD = [f"DELETE FROM {SQLITE_FTS}", SQLITE_ROWS]

SQLITE_FORWARD = [*SQLITE_TABLES, *SQLITE_TRIGGERS.values(), *SQLITE_REBUILD]

SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    f"DROP TABLE IF EXISTS {SQLITE_VOCAB}",
    f"DROP TABLE IF EXISTS {SQLITE_FTS}",
]
