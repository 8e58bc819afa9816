"""A realistic, deterministic demo catalog, generated in batches for bulk inserts.

The same seed always yields the same catalog, so benchmarks and screenshots compare
like with like. Nothing here touches the database: see the load_demo_data command.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils.text import slugify

from catalog.demo_content import DemoText, lesson_stem

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - the contract's documented demo password
DEMO_INSTRUCTOR_EMAIL = "instructor@example.com"
DEMO_STUDENT_EMAIL = "student@example.com"
# Fixed, so the catalog is the same whenever it is generated.
CATALOG_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

TOPICS: dict[str, list[str]] = {
    "Programming": [
        "Python",
        "JavaScript",
        "TypeScript",
        "Rust",
        "Go",
        "Java",
        "Kotlin",
        "C++",
        "Elixir",
        "Haskell",
        "Ruby",
        "Swift",
    ],
    "Web Development": [
        "Django",
        "React",
        "Vue",
        "HTML & CSS",
        "REST APIs",
        "GraphQL",
        "WebSockets",
        "Accessibility",
        "Web Performance",
        "Next.js",
    ],
    "Data Science": [
        "Pandas",
        "NumPy",
        "Statistics",
        "Data Visualization",
        "SQL Analytics",
        "Jupyter",
        "Time Series",
        "A/B Testing",
        "Feature Engineering",
    ],
    "Machine Learning": [
        "Neural Networks",
        "Deep Learning",
        "Computer Vision",
        "NLP",
        "Reinforcement Learning",
        "scikit-learn",
        "PyTorch",
        "MLOps",
    ],
    "DevOps": [
        "Docker",
        "Kubernetes",
        "Terraform",
        "CI/CD",
        "Linux Administration",
        "Observability",
        "Nginx",
        "Ansible",
    ],
    "Databases": [
        "PostgreSQL",
        "Redis",
        "Database Design",
        "Query Optimization",
        "MongoDB",
        "Data Modeling",
        "Replication",
    ],
    "Security": [
        "Web Security",
        "Cryptography",
        "Threat Modeling",
        "Penetration Testing",
        "Secure Coding",
        "Identity & Access",
    ],
    "Design": [
        "UX Research",
        "UI Design",
        "Typography",
        "Figma",
        "Design Systems",
        "Color Theory",
        "Prototyping",
    ],
    "Business": [
        "Product Management",
        "Marketing Analytics",
        "Startup Finance",
        "Negotiation",
        "Project Management",
        "Leadership",
    ],
    "Mathematics": [
        "Linear Algebra",
        "Calculus",
        "Probability",
        "Discrete Math",
        "Optimization",
        "Graph Theory",
    ],
    "Languages": ["Spanish", "French", "German", "Japanese", "Mandarin", "Italian"],
    "Photography": [
        "Portrait Photography",
        "Lightroom",
        "Street Photography",
        "Composition",
        "Studio Lighting",
    ],
}
TITLE_TEMPLATES = [
    "Introduction to {t}",
    "{t} for Beginners",
    "Mastering {t}",
    "Practical {t}",
    "{t} in Depth",
    "{t}: From Zero to Production",
    "Advanced {t}",
    "{t} Fundamentals",
    "The Complete {t} Course",
    "{t} by Example",
    "Hands-On {t}",
    "{t} Bootcamp",
    "Modern {t}",
    "{t} Essentials",
    "{t} Patterns and Practices",
    "Applied {t}",
]
SUMMARY_TEMPLATES = [
    "Learn {t} step by step with real projects and clear explanations.",
    "A practical course on {t}: the ideas, the tools and the habits of professionals.",
    "Build confidence in {t} through short lessons, exercises and a final project.",
    "Everything you need to use {t} at work, explained without jargon.",
    "Go beyond the basics of {t} and learn how experts approach hard problems.",
]
DESCRIPTION_SENTENCES = [
    "Each module ends with an exercise you can check yourself.",
    "You will build a small project from scratch and improve it lesson by lesson.",
    "The course assumes curiosity more than experience.",
    "Along the way we look at common mistakes and how to avoid them.",
    "Lessons are short, so you can fit them into a busy week.",
    "The final module brings everything together in a realistic case study.",
    "Quizzes and cheat sheets help you remember what matters.",
    "We compare several approaches and discuss when each one fits.",
]
MODULE_TITLES = [
    "Getting started",
    "Core concepts",
    "Working with real data",
    "Tools of the trade",
    "Common patterns",
    "Testing and debugging",
    "Performance",
    "Putting it together",
    "Going further",
    "Case study",
    "Best practices",
    "Review and next steps",
]
LESSON_TITLES = [
    "Overview",
    "Setting up",
    "A first example",
    "Key ideas",
    "Walkthrough",
    "Exercise",
    "Deep dive",
    "Pitfalls",
    "Quiz",
    "Recap",
    "Project step",
    "Q&A",
]
FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Donald",
    "Radia",
    "Guido",
    "Katherine",
    "Edsger",
    "Hedy",
    "Tim",
    "Sophie",
    "John",
    "Shafi",
    "Leslie",
    "Anita",
    "Niklaus",
    "Jean",
    "Yukihiro",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Knuth",
    "Perlman",
    "van Rossum",
    "Johnson",
    "Dijkstra",
    "Lamarr",
    "Berners-Lee",
    "Wilson",
    "McCarthy",
    "Goldwasser",
    "Lamport",
    "Borg",
    "Wirth",
    "Sammet",
    "Matsumoto",
]
LEVELS = ["beginner", "intermediate", "advanced"]
PAID_PRICES = [
    Decimal(p)
    for p in ("9.99", "19.00", "29.00", "39.00", "49.00", "79.00", "99.00", "149.00", "199.00")
]
CAPACITIES = [10, 20, 25, 30, 50, 100, 200]


# The demo media, shipped under catalog/demo_media/ and stored once under these names
# (every demo video lesson refers to the same files). The video is a 12-second test
# pattern with a tone, made here with:
#   ffmpeg -f lavfi -i testsrc2=size=640x360:rate=24 -f lavfi -i sine=frequency=440 -t 12 \
#     -c:v libx264 -profile:v baseline -pix_fmt yuv420p -crf 30 -c:a aac -b:a 32k -ac 1 \
#     -movflags +faststart lesson-demo.mp4
DEMO_MEDIA_DIR = Path(__file__).resolve().parent / "demo_media"
DEMO_VIDEO = "demo/lesson-demo.mp4"
DEMO_VIDEO_TYPE = "video/mp4"
DEMO_VIDEO_SECONDS = 12
DEMO_CAPTIONS = "demo/lesson-demo.en.vtt"
DEMO_CHEATSHEET = "demo/python-cheatsheet.txt"
DEMO_FILES = {
    DEMO_VIDEO: DEMO_MEDIA_DIR / "lesson-demo.mp4",
    DEMO_CAPTIONS: DEMO_MEDIA_DIR / "lesson-demo.en.vtt",
    DEMO_CHEATSHEET: DEMO_MEDIA_DIR / "python-cheatsheet.txt",
}
# Catalogs above this size get one paragraph per lesson, so that a benchmark-sized load
# stays a few hundred megabytes.
RICH_TEXT_MAX_COURSES = 20_000


@dataclass
class ResourceSpec:
    title: str
    name: str  # a DEMO_FILES key


@dataclass
class LessonSpec:
    title: str
    duration_seconds: int
    kind: str = "text"
    preview: bool = False
    body: str = ""
    body_html: str = ""
    resources: list[ResourceSpec] = field(default_factory=list)

    @property
    def is_video(self) -> bool:
        return self.kind == "video"


@dataclass
class ModuleSpec:
    title: str
    lessons: list[LessonSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    description: str
    category: str
    level: str
    price: Decimal
    currency: str
    capacity: int | None
    rating: Decimal | None
    published_at: datetime
    instructor_index: int
    modules: list[ModuleSpec]


def instructor_count_for(courses: int) -> int:
    """Several instructors, growing with the catalog (about 40 courses each)."""
    return max(8, courses // 40)


def instructor_identity(index: int) -> tuple[str, str]:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
    return f"{first} {last}", f"teacher{index + 1:05d}@demo.example.com"


def _outline(rng: random.Random, scale: int) -> list[ModuleSpec]:
    # Big catalogs get slimmer outlines so 100,000 courses stay a few million rows.
    module_count = rng.randint(2, 3) if scale > 20_000 else rng.randint(3, 5)
    modules = []
    for module_index in range(module_count):
        title = MODULE_TITLES[(module_index * 3 + rng.randrange(3)) % len(MODULE_TITLES)]
        lessons = [
            LessonSpec(
                title=f"{LESSON_TITLES[rng.randrange(len(LESSON_TITLES))]} {lesson_index + 1}",
                duration_seconds=rng.randrange(120, 1800, 30),
            )
            for lesson_index in range(rng.randint(2, 5))
        ]
        modules.append(ModuleSpec(title=f"{module_index + 1}. {title}", lessons=lessons))
    return modules


def _write_text(
    modules: list[ModuleSpec], *, text: DemoText, rng: random.Random, category: str, topic: str
) -> None:
    """Give every lesson its body; the course's first lesson is its preview."""
    for lesson in (lesson for module in modules for lesson in module.lessons):
        stem = lesson_stem(lesson.title)
        body = (
            text.video_lesson(rng, topic=topic, stem=stem)
            if lesson.is_video
            else text.text_lesson(rng, category=category, topic=topic, stem=stem)
        )
        lesson.body, lesson.body_html = body.markdown, body.html
    modules[0].lessons[0].preview = True


def generate_courses(*, count: int, seed: int, instructors: int) -> Iterator[CourseSpec]:
    """`count` course specs; slugs are unique within the run. Lesson text comes from a
    generator of its own per course, so the catalog's other fields stay those the seed
    always gave."""
    rng = random.Random(seed)
    text = DemoText(rich=count <= RICH_TEXT_MAX_COURSES)
    categories = list(TOPICS)
    seen_slugs: dict[str, int] = {}
    for index in range(count):
        category = categories[rng.randrange(len(categories))]
        topic = rng.choice(TOPICS[category])
        title = rng.choice(TITLE_TEMPLATES).format(t=topic)
        base_slug = slugify(title)[:90]
        seen = seen_slugs.get(base_slug, 0) + 1
        seen_slugs[base_slug] = seen
        slug = base_slug if seen == 1 else f"{base_slug}-{seen}"
        free = rng.random() < 0.15
        limited = rng.random() < 0.4
        spec = CourseSpec(
            slug=slug,
            title=title if seen == 1 else f"{title} ({_edition(seen)})",
            summary=rng.choice(SUMMARY_TEMPLATES).format(t=topic),
            description=" ".join(rng.sample(DESCRIPTION_SENTENCES, 3)),
            category=category,
            level=rng.choice(LEVELS),
            price=Decimal("0.00") if free else rng.choice(PAID_PRICES),
            currency="usd",
            capacity=rng.choice(CAPACITIES) if limited else None,
            rating=None if rng.random() < 0.1 else Decimal(rng.randint(30, 50)) / 10,
            published_at=CATALOG_EPOCH - timedelta(minutes=rng.randrange(0, 700 * 24 * 60)),
            instructor_index=index % instructors,
            modules=_outline(rng, count),
        )
        _write_text(
            spec.modules,
            text=text,
            rng=random.Random(f"{seed}:{index}"),
            category=category,
            topic=topic,
        )
        yield spec


def _edition(number: int) -> str:
    return f"Edition {number}"


def _video(title: str, **kwargs) -> LessonSpec:
    return LessonSpec(title, DEMO_VIDEO_SECONDS, kind="video", **kwargs)


def demo_account_courses() -> list[CourseSpec]:
    """The contract's guaranteed courses of instructor@example.com: one paid with a
    capacity, one free and unlimited. Both mix video lessons (the demo video, with
    captions) and text lessons; the first lesson is a preview."""
    cheatsheet = ResourceSpec("Python cheat sheet", DEMO_CHEATSHEET)
    text = DemoText()

    def outline() -> list[ModuleSpec]:
        modules = [
            ModuleSpec(
                "1. Getting started",
                [
                    _video("Installing Python"),
                    LessonSpec("Your first program", 600, preview=True),
                    LessonSpec("Variables and types", 780, resources=[cheatsheet]),
                ],
            ),
            ModuleSpec(
                "2. Control flow",
                [_video("Conditions"), LessonSpec("Loops", 660), LessonSpec("Functions", 900)],
            ),
            ModuleSpec(
                "3. Working with data",
                [
                    LessonSpec("Lists and dicts", 720),
                    _video("Files"),
                    LessonSpec("A small project", 1500, resources=[cheatsheet]),
                ],
            ),
        ]
        _write_text(
            modules,
            text=text,
            rng=random.Random("instructor@example.com"),
            category="Programming",
            topic="Python",
        )
        return modules

    return [
        CourseSpec(
            slug="intro-to-python",
            title="Intro to Python",
            summary="Learn Python from scratch: syntax, data structures and a first project.",
            description="A friendly, hands-on start with Python for complete beginners. "
            "You will write real programs from the first lesson.",
            category="Programming",
            level="beginner",
            price=Decimal("49.00"),
            currency="usd",
            capacity=25,
            rating=Decimal("4.8"),
            published_at=CATALOG_EPOCH,
            instructor_index=-1,
            modules=outline(),
        ),
        CourseSpec(
            slug="python-foundations-free",
            title="Python Foundations (Free)",
            summary="A free primer on Python basics for anyone curious about programming.",
            description="Short lessons covering the core of the Python language, free for "
            "everyone, no limit on seats.",
            category="Programming",
            level="beginner",
            price=Decimal("0.00"),
            currency="usd",
            capacity=None,
            rating=Decimal("4.6"),
            published_at=CATALOG_EPOCH,
            instructor_index=-1,
            modules=outline()[:2],
        ),
    ]
