"""The search relevance table as data (docs/search-relevance.md is the same table in prose).

CATALOG is a small hand-written catalog; CASES are queries with the hits expected at the
top, in order. Each entry of `expect` is one rank: a title, or a set of titles that may
come in any order among themselves. `db_total` is the exact total the database backends
give (Meilisearch matches prefixes in every attribute and estimates totals, so it is not
held to it). Every backend is checked against this table by the relevance tests.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.models import Course, CourseInstructor, Lesson, Module, Synonym
from portal.accounts.models import User

DRAFT = "Unpublished Python Draft"

# Synonyms the table relies on (the seeded defaults among them; a flushing test may have
# emptied the table, so load_catalog() makes sure of them).
SYNONYMS = {
    "ai": ["artificial intelligence", "machine learning"],
    "js": ["javascript"],
    "k8s": ["kubernetes"],
    "ml": ["machine learning"],
}

# title, summary, description, category, level, price, enrollments, rating
_ROWS: list[tuple[str, str, str, str, str, str, int, str | None]] = [
    (
        "Python for Data Science",
        "Analyse data with Python, NumPy and pandas.",
        "Notebooks, real datasets and a capstone analysis.",
        "Data Science",
        "intermediate",
        "49.00",
        900,
        "4.7",
    ),
    (
        "Intro to Python",
        "Learn Python from scratch: syntax, data structures and a first project.",
        "A friendly start for complete beginners.",
        "Programming",
        "beginner",
        "29.00",
        1200,
        "4.8",
    ),
    (
        "Pythonic Patterns",
        "Idioms, generators and decorators for experienced developers.",
        "Write code that reads like the language intends.",
        "Programming",
        "advanced",
        "79.00",
        300,
        "4.6",
    ),
    (
        "Python Testing with pytest",
        "Write reliable tests with fixtures and parametrization.",
        "From the first assert to a full suite in continuous integration.",
        "Programming",
        "intermediate",
        "39.00",
        400,
        "4.5",
    ),
    (
        "Automate the Boring Stuff",
        "Small scripts that save hours every week.",
        "Every script is written in Python; no prior experience needed.",
        "Programming",
        "beginner",
        "19.00",
        700,
        "4.4",
    ),
    (
        "Pandas in Practice",
        "Clean, reshape and aggregate tabular data.",
        "Merges, group-bys and time series on messy files.",
        "Data Science",
        "intermediate",
        "59.00",
        500,
        "4.5",
    ),
    (
        "Pandas Performance Tuning",
        "Make dataframes fast: vectorisation, dtypes and memory.",
        "Profiling first, then the changes that pay off.",
        "Data Science",
        "advanced",
        "89.00",
        150,
        "4.3",
    ),
    (
        "JavaScript Fundamentals",
        "Variables, functions and the DOM for the modern web.",
        "Short exercises in the browser console.",
        "Web Development",
        "beginner",
        "0.00",
        1100,
        "4.6",
    ),
    (
        "Advanced JavaScript",
        "Closures, prototypes, async and the event loop.",
        "How the engine really runs your code.",
        "Web Development",
        "advanced",
        "99.00",
        350,
        "4.7",
    ),
    (
        "JavaScript Testing",
        "Unit and end-to-end tests for web applications.",
        "Mocks, fakes and flaky tests tamed.",
        "Web Development",
        "intermediate",
        "49.00",
        200,
        "4.2",
    ),
    (
        "Java for Beginners",
        "Classes, objects and the JVM from the ground up.",
        "Build a small inventory application.",
        "Programming",
        "beginner",
        "29.00",
        800,
        "4.4",
    ),
    (
        "Java Concurrency",
        "Threads, executors and the memory model.",
        "Locks, atomics and the pitfalls of shared state.",
        "Programming",
        "advanced",
        "119.00",
        120,
        "4.8",
    ),
    (
        "Data Visualization with D3",
        "Interactive charts for the browser.",
        "Scales, axes and transitions step by step.",
        "Data Science",
        "intermediate",
        "69.00",
        260,
        "4.5",
    ),
    (
        "Data Visualization Fundamentals",
        "Choosing the right chart and telling a story with data.",
        "Colour, annotation and honest axes.",
        "Data Science",
        "beginner",
        "19.00",
        640,
        "4.6",
    ),
    (
        "Data Engineering Pipelines",
        "Batch and streaming pipelines with Airflow and Kafka.",
        "Idempotent jobs, backfills and monitoring.",
        "Data Science",
        "advanced",
        "129.00",
        210,
        "4.4",
    ),
    (
        "Statistics for Data Analysis",
        "Distributions, inference and regression explained.",
        "Worked examples with survey results.",
        "Mathematics",
        "intermediate",
        "45.00",
        330,
        "4.3",
    ),
    (
        "Visual Design Basics",
        "Layout, colour and typography for non-designers.",
        "Critique sessions on real screens.",
        "Design",
        "beginner",
        "25.00",
        410,
        "4.1",
    ),
    (
        "Machine Learning with scikit-learn",
        "Train, evaluate and tune models in Python.",
        "Pipelines, cross-validation and feature selection.",
        "Machine Learning",
        "intermediate",
        "89.00",
        760,
        "4.7",
    ),
    (
        "Deep Learning with PyTorch",
        "Neural networks from tensors to training loops.",
        "Convolutions, transformers and GPUs.",
        "Machine Learning",
        "advanced",
        "149.00",
        540,
        "4.8",
    ),
    (
        "Docker Essentials",
        "Containers, images and compose for developers.",
        "Multi-stage builds and small images.",
        "DevOps",
        "beginner",
        "35.00",
        600,
        "4.5",
    ),
    (
        "Kubernetes in Production",
        "Deployments, services and autoscaling on real clusters.",
        "Rollouts, probes and resource limits.",
        "DevOps",
        "advanced",
        "139.00",
        280,
        "4.6",
    ),
    (
        "PostgreSQL Query Tuning",
        "Indexes, plans and the statistics behind them.",
        "Reading EXPLAIN output with confidence.",
        "Databases",
        "advanced",
        "99.00",
        230,
        "4.9",
    ),
    (
        "SQL for Analysts",
        "Joins, window functions and reporting queries.",
        "Answer business questions from raw tables.",
        "Databases",
        "beginner",
        "29.00",
        520,
        "4.4",
    ),
    (
        "Redis in Depth",
        "Data structures, persistence and replication.",
        "Caching patterns and their failure modes.",
        "Databases",
        "intermediate",
        "59.00",
        190,
        "4.3",
    ),
    (
        "Rust Systems Programming",
        "Ownership, lifetimes and fearless concurrency.",
        "A tiny operating system kernel as the project.",
        "Programming",
        "advanced",
        "109.00",
        310,
        "4.7",
    ),
    (
        "Go Web Services",
        "HTTP servers, middleware and testing in Go.",
        "Graceful shutdown and structured logs.",
        "Web Development",
        "intermediate",
        "65.00",
        240,
        "4.4",
    ),
    (
        "React from Scratch",
        "Components, hooks and state management.",
        "A to-do list grows into a real application.",
        "Web Development",
        "beginner",
        "45.00",
        980,
        "4.6",
    ),
    (
        "TypeScript Essentials",
        "Types for JavaScript developers.",
        "Generics, narrowing and strict mode.",
        "Web Development",
        "intermediate",
        "39.00",
        450,
        "4.5",
    ),
    (
        "Web Security Basics",
        "XSS, CSRF and safe authentication.",
        "Attack a toy shop, then defend it.",
        "Security",
        "beginner",
        "0.00",
        370,
        "4.5",
    ),
    (
        "Cryptography Primer",
        "Hashes, ciphers and signatures explained.",
        "Why you should never roll your own.",
        "Security",
        "intermediate",
        "55.00",
        160,
        "4.2",
    ),
    (
        "Product Management 101",
        "Roadmaps, discovery and working with engineers.",
        "Case studies from shipped products.",
        "Business",
        "beginner",
        "49.00",
        290,
        "4.0",
    ),
    (
        "Spanish for Travellers",
        "Everyday phrases for your next trip.",
        "Listening practice with native speakers.",
        "Languages",
        "beginner",
        "15.00",
        880,
        "4.6",
    ),
    (
        "Portrait Photography",
        "Light, posing and editing portraits.",
        "Studio and natural light setups.",
        "Photography",
        "beginner",
        "39.00",
        420,
        "4.7",
    ),
    (
        "Linear Algebra for Machine Learning",
        "Vectors, matrices and decompositions.",
        "Geometric intuition before formulas.",
        "Mathematics",
        "intermediate",
        "49.00",
        380,
        "4.5",
    ),
    (
        "Scientific Computing with NumPy",
        "Arrays, broadcasting and numerical methods in Python.",
        "Simulations and signal processing.",
        "Data Science",
        "intermediate",
        "55.00",
        270,
        "4.4",
    ),
    (
        "Web Scraping Projects",
        "Collect data from websites responsibly.",
        "Uses Python with requests and BeautifulSoup.",
        "Programming",
        "intermediate",
        "35.00",
        230,
        "4.1",
    ),
    (
        "Excel Dashboards",
        "Pivot tables and charts for business reporting.",
        "Templates you can reuse at work.",
        "Business",
        "beginner",
        "29.00",
        300,
        "4.0",
    ),
    (
        "AI for Everyone",
        "What artificial intelligence can and cannot do for your work.",
        "No code, no maths.",
        "Business",
        "beginner",
        "19.00",
        100,
        "4.1",
    ),
    (
        "Negotiation Skills",
        "Prepare, listen and reach better agreements.",
        "Role plays with feedback.",
        "Business",
        "intermediate",
        "45.00",
        180,
        None,
    ),
]

CATALOG: list[dict[str, Any]] = [
    {
        "title": title,
        "summary": summary,
        "description": description,
        "category": category,
        "level": level,
        "price": Decimal(price),
        "enrollment_count": enrollments,
        "rating": Decimal(rating) if rating else None,
        "published": True,
    }
    for title, summary, description, category, level, price, enrollments, rating in _ROWS
] + [
    {
        "title": DRAFT,
        "summary": "Python everywhere, but not published yet.",
        "description": "Python Python Python.",
        "category": "Programming",
        "level": "beginner",
        "price": Decimal("0.00"),
        "enrollment_count": 5000,
        "rating": Decimal("5.0"),
        "published": False,
    }
]

# Beyond the course row: more instructors (after Rita Relevance, who teaches every course)
# and outlines, {module title: [lesson titles]}.
INSTRUCTORS = {
    "Java for Beginners": ["Grace Hopper"],
    "Java Concurrency": ["Grace Hopper"],
}
OUTLINES = {
    "Kubernetes in Production": {"Shipping with Helm": ["Helm charts", "Rollbacks"]},
    "Pandas in Practice": {"Cleaning": ["Groupby recipes", "Missing values"]},
    "Python for Data Science": {"Tooling": ["Docker for data scientists"]},
}

PY_TITLES = frozenset(
    {
        "Python for Data Science",
        "Intro to Python",
        "Pythonic Patterns",
        "Python Testing with pytest",
    }
)
JS_TITLES = frozenset({"JavaScript Fundamentals", "Advanced JavaScript", "JavaScript Testing"})
ML_TITLES = frozenset({"Machine Learning with scikit-learn", "Linear Algebra for Machine Learning"})
PANDAS_TITLES = frozenset({"Pandas in Practice", "Pandas Performance Tuning"})
DATAVIZ_TITLES = frozenset({"Data Visualization with D3", "Data Visualization Fundamentals"})

Rank = str | frozenset[str]


@dataclass(frozen=True)
class Case:
    query: str
    expect: tuple[Rank, ...]
    why: str
    filters: dict[str, Any] = field(default_factory=dict)
    db_total: int | None = None
    limit: int = 20
    # SQLite has no trigram similarity: what only that catches is not asked of it.
    engines: frozenset[str] = frozenset({"postgres", "sqlite", "meilisearch"})

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.filters.items())
        return f"{self.query or '(empty)'}" + (f"[{extra}]" if extra else "")


CASES: list[Case] = [
    # --- prefixes of 2 to 6 characters ---
    Case(
        "py",
        (PY_TITLES | {"Deep Learning with PyTorch"},),
        "a two-letter prefix matches title words only: every py… title, no summary hit",
        db_total=5,
    ),
    Case(
        "pyth",
        (
            PY_TITLES,
            frozenset({"Machine Learning with scikit-learn", "Scientific Computing with NumPy"}),
            frozenset({"Automate the Boring Stuff", "Web Scraping Projects"}),
        ),
        "titles first, then summaries, then descriptions",
        db_total=8,
    ),
    Case(
        "javas",
        (JS_TITLES, "TypeScript Essentials"),
        "JavaScript titles, then the summary that names it; never Java",
        db_total=4,
    ),
    Case(
        "java",
        (JS_TITLES | {"Java for Beginners", "Java Concurrency"}, "TypeScript Essentials"),
        "java… is a prefix of both Java and JavaScript",
        db_total=6,
    ),
    Case(
        "pand",
        (PANDAS_TITLES, "Python for Data Science"),
        "pandas in titles, then in a summary",
        db_total=3,
    ),
    Case("kube", ("Kubernetes in Production",), "a four-letter prefix", db_total=1),
    Case("postgr", ("PostgreSQL Query Tuning",), "a six-letter prefix", db_total=1),
    Case(
        "data v",
        (DATAVIZ_TITLES,),
        "two words, the last a one-letter prefix (titles only)",
        db_total=2,
    ),
    # --- typos ---
    Case("pyhton", (PY_TITLES,), "swapped letters: corrected to python"),
    Case("javscript", (JS_TITLES, "TypeScript Essentials"), "a missing letter"),
    Case("pandsa", (PANDAS_TITLES, "Python for Data Science"), "swapped letters at the end"),
    Case("kubernets", ("Kubernetes in Production",), "a missing letter in a long word"),
    Case("dokcer", ("Docker Essentials",), "swapped letters in a six-letter word"),
    Case(
        "machin lerning",
        (frozenset({"Machine Learning with scikit-learn", "Linear Algebra for Machine Learning"}),),
        "a typo in each of two words",
    ),
    Case(
        "java script",
        (JS_TITLES,),
        "a word split in two: nothing matches both, the title trigrams do",
        engines=frozenset({"postgres", "meilisearch"}),
    ),
    # --- several words ---
    Case(
        "data science",
        ("Python for Data Science",),
        "both words in one title, before the category's other courses",
        db_total=7,
    ),
    Case("python testing", ("Python Testing with pytest",), "both words in the title"),
    Case("deep learning", ("Deep Learning with PyTorch",), "a two-word title phrase", db_total=1),
    Case(
        "learning python",
        ("Machine Learning with scikit-learn",),
        "one word in the title, the other in the summary",
        db_total=1,
    ),
    Case("web sec", ("Web Security Basics",), "two words, the last a prefix", db_total=1),
    # --- synonyms (catalog.models.Synonym) ---
    Case(
        "js",
        (JS_TITLES, "TypeScript Essentials"),
        "a synonym: js finds what javascript finds, titles first",
        db_total=4,
    ),
    Case("k8s", ("Kubernetes in Production",), "a synonym with a digit", db_total=1),
    Case(
        "ml",
        (ML_TITLES, "Deep Learning with PyTorch"),
        "a synonym expanding to two words, both required (in the title, then the category)",
        db_total=3,
    ),
    Case(
        "js testing",
        ("JavaScript Testing",),
        "a synonym beside another word",
        db_total=1,
    ),
    # --- the rest: category, level, instructors, module and lesson titles ---
    Case(
        "machine learning",
        (ML_TITLES, "Deep Learning with PyTorch"),
        "a category: its courses after those with the words in the title",
        db_total=3,
    ),
    Case(
        "devops",
        (frozenset({"Docker Essentials", "Kubernetes in Production"}),),
        "a category no title names",
        db_total=2,
    ),
    Case(
        "hopper",
        (frozenset({"Java for Beginners", "Java Concurrency"}),),
        "an instructor's name",
        db_total=2,
    ),
    Case(
        "hopper java",
        (frozenset({"Java for Beginners", "Java Concurrency"}),),
        "an instructor's name and a title word",
        db_total=2,
    ),
    Case(
        "ai",
        (ML_TITLES | {"AI for Everyone"}, "Deep Learning with PyTorch"),
        "a short word and its synonyms: titles first, then the category",
        db_total=4,
    ),
    Case("helm", ("Kubernetes in Production",), "a module and a lesson title", db_total=1),
    Case("recipes", ("Pandas in Practice",), "a lesson title", db_total=1),
    Case(
        "docker",
        ("Docker Essentials", "Python for Data Science"),
        "a title before a lesson title",
        db_total=2,
    ),
    Case(
        "advanced",
        ("Advanced JavaScript",),
        "a level: the title that says it first, then every advanced course",
        db_total=9,
    ),
    # --- filters ---
    Case("py", ("Intro to Python",), "a level filter", filters={"level": "beginner"}, db_total=1),
    Case(
        "data",
        (DATAVIZ_TITLES | {"Python for Data Science", "Data Engineering Pipelines"},),
        "a category filter",
        filters={"category": "Data Science"},
    ),
    Case(
        "java",
        (JS_TITLES - {"Advanced JavaScript"} | {"Java for Beginners"}, "TypeScript Essentials"),
        "a price ceiling drops the 99 and 119 courses",
        filters={"max_price": Decimal("50")},
        db_total=4,
    ),
    Case(
        "",
        ("Deep Learning with PyTorch", "Advanced JavaScript", "Rust Systems Programming"),
        "no query: the most popular courses",
        filters={"level": "advanced"},
        db_total=9,
    ),
]


def load_catalog(*, instructor: User | None = None) -> dict[str, Course]:
    """Create CATALOG (and its instructor); returns the courses by title."""
    instructor = instructor or User.objects.create_user(
        email="relevance@example.test", password="x", name="Rita Relevance", is_instructor=True
    )
    for term, expansions in SYNONYMS.items():
        for expansion in expansions:
            Synonym.objects.get_or_create(term=term, expansion=expansion)
    courses = {}
    for number, row in enumerate(CATALOG, start=1):
        fields = dict(row)
        published = fields.pop("published")
        course = Course.objects.create(
            slug=f"relevance-{number}",
            published_at=_published_at(number) if published else None,
            **fields,
        )
        CourseInstructor.objects.create(course=course, user=instructor)
        for position, name in enumerate(INSTRUCTORS.get(course.title, []), start=1):
            email = name.lower().replace(" ", ".") + "@example.test"
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email=email, password="x", name=name, is_instructor=True
            )
            CourseInstructor.objects.create(course=course, user=user, position=position)
        outline = OUTLINES.get(course.title, {})
        for module_position, (module_title, lessons) in enumerate(outline.items(), start=1):
            module = Module.objects.create(
                course=course, title=module_title, position=module_position
            )
            for lesson_position, lesson_title in enumerate(lessons, start=1):
                Lesson.objects.create(module=module, title=lesson_title, position=lesson_position)
        courses[course.title] = course
    return courses


def _published_at(number: int):
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=number)


def check(case: Case, result: dict[str, Any]) -> None:
    """Assert the answer starts with the case's expected ranks and hides the draft."""
    titles = [hit["title"] for hit in result["hits"]]
    assert DRAFT not in titles, titles
    position = 0
    for rank in case.expect:
        size = 1 if isinstance(rank, str) else len(rank)
        got = titles[position : position + size]
        wanted = {rank} if isinstance(rank, str) else set(rank)
        assert set(got) == wanted, (
            f"{case.id}: hits {position}..{position + size - 1} were {got}, expected {sorted(wanted)}; all: {titles}"
        )
        position += size
    for hit in result["hits"]:
        for name, value in case.filters.items():
            if name == "max_price":
                assert Decimal(hit["price"]) <= value, hit
            else:
                assert hit[name] == value, hit
