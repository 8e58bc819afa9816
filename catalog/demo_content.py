"""Readable lesson text for the demo catalog, generated deterministically.

A body is a handful of Markdown blocks (an opening paragraph for the kind of lesson, a
heading, a list, a code block in the course's own language or a table, a closing
paragraph), picked by the caller's seeded random generator, with the course's topic
written in. Rendering thousands of bodies one by one would slow the demo load down, so
`DemoText` renders each block once with a placeholder for the topic and puts the
(escaped) topic into the HTML afterwards: Markdown renders blocks separated by a blank
line independently, so the joined HTML is what catalog.content.markdown_render gives
for the whole body (a test compares them over a generated catalog).
"""

import functools
import html
import random
from dataclasses import dataclass

from catalog.content import markdown_render

# A plain word: Markdown, Pygments and the sanitiser all leave it as it is.
TOPIC = "DEMOTOPICWORD"

OPENINGS: dict[str, list[str]] = {
    "Overview": [
        "This lesson maps out what {t} is for and where it fits. By the end you will "
        "know which parts of {t} the rest of the course builds on.",
        "Before diving in, we look at {t} from a distance: the problems it solves, "
        "the vocabulary people use, and what a typical day with it looks like.",
    ],
    "Setting up": [
        "A good setup saves hours later. Here we prepare everything you need to work "
        "with {t} comfortably, and check that it all works.",
        "We install the tools for {t}, pick sensible defaults and make a small project "
        "folder you will reuse in every module.",
    ],
    "A first example": [
        "Nothing beats a working example. We build the smallest useful thing with "
        "{t} and take it apart line by line.",
        "Let us write a first, complete example in {t}: short enough to read in one "
        "go, real enough to show the important ideas.",
    ],
    "Key ideas": [
        "A few ideas carry most of {t}. This lesson names them, shows each one in "
        "action and explains why it matters.",
        "Experts in {t} rely on a small set of concepts. Once they click, the rest "
        "of the course reads like applications of them.",
    ],
    "Walkthrough": [
        "In this walkthrough we follow a realistic task in {t} from start to finish, "
        "pausing at each decision to discuss the options.",
        "Follow along step by step: we solve a typical {t} problem and keep notes on "
        "what we would do differently next time.",
    ],
    "Exercise": [
        "Time to practise. The exercise below uses what you learned about {t} so far; "
        "try it before reading the hints.",
        "Practice turns knowledge into skill. Work through this {t} exercise, then "
        "compare your answer with the notes at the end.",
    ],
    "Deep dive": [
        "This deep dive looks under the hood of {t}. It is optional on a first pass, "
        "but it explains many surprises you will meet later.",
        "We go one level deeper into {t} and study how it behaves at the edges: large "
        "inputs, odd cases and failure modes.",
    ],
    "Pitfalls": [
        "Everyone makes the same few mistakes with {t}. Knowing them in advance is "
        "the cheapest way to avoid them.",
        "This lesson collects the pitfalls of {t} that show up in real projects, with "
        "a short explanation and a fix for each.",
    ],
    "Quiz": [
        "A short quiz checks your understanding of {t}. Answer from memory first; "
        "the explanations follow each question.",
        "Test yourself: the questions below cover the module's ideas about {t}. Keep "
        "score and revisit the lessons you missed.",
    ],
    "Recap": [
        "Let us pull the module together. This recap lists what you now know about "
        "{t} and points to the lessons that explain each item.",
        "A quick summary of the module on {t}: the ideas, the tools and the habits worth keeping.",
    ],
    "Project step": [
        "The course project grows by one step in this lesson. We add a feature using "
        "{t} and keep the code tidy as we go.",
        "Project time: we apply the module's ideas about {t} to the course project "
        "and test the result.",
    ],
    "Q&A": [
        "Learners ask the same good questions about {t}. Here are the most common "
        "ones, with short answers and pointers for more.",
        "This lesson answers questions that came up while teaching {t}, from the "
        "practical to the philosophical.",
    ],
}
HEADINGS = [
    "What you will learn",
    "The main idea",
    "How it works",
    "Step by step",
    "In practice",
    "Things to remember",
]
LISTS = [
    "- Read the example once without running it.\n"
    "- Run it and change one thing at a time.\n"
    "- Write down what surprised you.",
    "1. Start from a small, working version.\n"
    "2. Add one feature and test it.\n"
    "3. Refactor before the next step.",
    "- **Clarity** beats cleverness.\n"
    "- Name things after what they mean.\n"
    "- Keep feedback loops short.",
    "- Know the defaults before changing them.\n"
    "- Measure before optimising.\n"
    "- Automate what you repeat.",
    "1. State the problem in one sentence.\n"
    "2. Sketch a solution on paper.\n"
    "3. Build it, then explain it to someone else.",
]
MIDDLES = [
    "Keep the example below open while you read: each line maps to one idea of the "
    "lesson, and small changes to it are the best way to learn {t}.",
    "The snippet below is deliberately short. Read it top to bottom, then predict "
    "what changes if you swap two lines: that is how people who know {t} think.",
    "Try the following in your own setup. It is the kind of thing you will write "
    "again and again when you work with {t}.",
]
CLOSINGS = [
    "That is all for this lesson. In the next one we build on it, so make sure the "
    "example works on your machine before moving on.",
    "Take five minutes to go over your notes. If something felt unclear, the Q&A "
    "lessons at the end of each module are a good place to look.",
    "Well done. Mark the lesson as complete when you are ready, and keep your "
    "example around: we will come back to it.",
    "*Tip:* explaining what you just learned to someone else, even a rubber duck, "
    "is the fastest way to find the gaps.",
]
CODE: dict[str, list[tuple[str, str]]] = {
    "Programming": [
        (
            "python",
            "def summary(items: list[int]) -> dict[str, float]:\n"
            '    """Small statistics for {t} practice."""\n'
            "    total = sum(items)\n"
            '    return {"count": len(items), "mean": total / len(items)}\n\n'
            "print(summary([3, 5, 8]))",
        ),
        (
            "javascript",
            "// A tiny helper from the {t} course\n"
            "export function chunk(items, size) {\n"
            "  const out = [];\n"
            "  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));\n"
            "  return out;\n"
            "}",
        ),
    ],
    "Web Development": [
        (
            "javascript",
            "// Fetch JSON for the {t} example page\n"
            "const response = await fetch('/api/courses?page_size=5');\n"
            "if (!response.ok) throw new Error(`HTTP ${response.status}`);\n"
            "const { results } = await response.json();\n"
            "console.log(results.map((course) => course.title));",
        ),
        (
            "html",
            '<!-- The page skeleton used in "{t}" -->\n'
            "<main>\n"
            "  <h1>Hello</h1>\n"
            '  <button type="button">Click me</button>\n'
            "</main>",
        ),
    ],
    "Data Science": [
        (
            "python",
            "import pandas as pd\n\n"
            "# Sales by month, as in the {t} exercises\n"
            'sales = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "total": [120, 95, 143]})\n'
            'print(sales.describe())\nprint(sales.sort_values("total", ascending=False).head(1))',
        ),
    ],
    "Machine Learning": [
        (
            "python",
            "from sklearn.linear_model import LogisticRegression\n\n"
            "# A baseline model for the {t} module\n"
            "X = [[0.0, 1.2], [1.1, 0.3], [0.2, 0.9], [1.4, 0.1]]\n"
            "y = [0, 1, 0, 1]\n"
            "model = LogisticRegression().fit(X, y)\n"
            "print(model.predict([[1.0, 0.2]]))",
        ),
    ],
    "DevOps": [
        (
            "bash",
            "#!/usr/bin/env bash\n"
            "# Health check from the {t} lessons\n"
            "set -euo pipefail\n"
            'for url in "$@"; do\n'
            '  curl -fsS --max-time 5 "$url" > /dev/null && echo "ok   $url" || echo "FAIL $url"\n'
            "done",
        ),
        (
            "yaml",
            "# A service definition used in {t}\n"
            "services:\n"
            "  web:\n"
            "    image: nginx:1.27\n"
            '    ports: ["8080:80"]\n'
            "    restart: unless-stopped",
        ),
    ],
    "Databases": [
        (
            "sql",
            "-- Top courses by enrollments ({t})\n"
            "SELECT c.title, COUNT(*) AS students\n"
            "FROM enrollment e\n"
            "JOIN course c ON c.id = e.course_id\n"
            "GROUP BY c.title\n"
            "ORDER BY students DESC\n"
            "LIMIT 5;",
        ),
    ],
    "Security": [
        (
            "python",
            "import hashlib\nimport hmac\n\n"
            "# Constant-time comparison, as discussed in {t}\n"
            "def verify(message: bytes, signature: str, key: bytes) -> bool:\n"
            "    expected = hmac.new(key, message, hashlib.sha256).hexdigest()\n"
            "    return hmac.compare_digest(expected, signature)",
        ),
    ],
    "Design": [
        (
            "css",
            "/* Spacing scale from the {t} lessons */\n"
            ":root { --space-1: 0.25rem; --space-2: 0.5rem; --space-3: 1rem; }\n"
            ".card { padding: var(--space-3); border-radius: 0.5rem; }",
        ),
    ],
    "Mathematics": [
        (
            "python",
            "from fractions import Fraction\n\n"
            "# Exact arithmetic for the {t} exercises\n"
            "steps = [Fraction(1, n * (n + 1)) for n in range(1, 10)]\n"
            "print(sum(steps))  # telescopes to 9/10",
        ),
    ],
}
TABLES = [
    "| Term | Meaning |\n|---|---|\n"
    "| Goal | What success looks like |\n"
    "| Constraint | What we cannot change |\n"
    "| Trade-off | What we give up to gain something |",
    "| Step | Time | Check |\n|---|---|---|\n"
    "| Prepare | 10 min | Notes ready |\n"
    "| Practise | 20 min | Exercise done |\n"
    "| Review | 5 min | Questions listed |",
]
VIDEO_BLOCKS = [
    "Watch the video, then read the notes below. Captions are available in the "
    "player, and the transcript follows the video.",
    "- Pause whenever you want to try something yourself.\n"
    "- Change the playback speed in the player's menu.\n"
    "- Turn captions on with the CC button.",
]


@dataclass(frozen=True)
class DemoBody:
    markdown: str
    html: str


class DemoText:
    """Bodies for one catalog load; each block is rendered once per load."""

    def __init__(self, *, rich: bool = True) -> None:
        self.rich = rich  # big catalogs get one paragraph per lesson

    @staticmethod
    @functools.cache
    def _rendered(block: str) -> str:
        return markdown_render(block)

    def _body(self, blocks: list[str], topic: str) -> DemoBody:
        blocks = [block.replace("{t}", TOPIC) for block in blocks]
        escaped = html.escape(topic, quote=False)
        return DemoBody(
            markdown="\n\n".join(blocks).replace(TOPIC, topic),
            html="".join(self._rendered(block) for block in blocks).replace(TOPIC, escaped),
        )

    def text_lesson(self, rng: random.Random, *, category: str, topic: str, stem: str) -> DemoBody:
        opening = rng.choice(OPENINGS.get(stem, OPENINGS["Overview"]))
        if not self.rich:
            return self._body([opening], topic)
        blocks = [opening, f"## {rng.choice(HEADINGS)}"]
        samples = CODE.get(category)
        # A course about one language shows that language ("Intro to Python": no JavaScript).
        samples = [(lang, code) for lang, code in samples or [] if lang in topic.lower()] or samples
        # Code in about half of the lessons of courses that have some, else a list or a
        # table: varied, and a 2,000-course catalog stays quick to load.
        if samples and rng.random() < 0.5:
            language, code = rng.choice(samples)
            blocks += [rng.choice(MIDDLES), f"```{language}\n{code}\n```"]
        elif rng.random() < 0.75:
            blocks.append(rng.choice(LISTS))
        else:
            blocks.append(rng.choice(TABLES))
        blocks.append(rng.choice(CLOSINGS))
        return self._body(blocks, topic)

    def video_lesson(self, rng: random.Random, *, topic: str, stem: str) -> DemoBody:
        opening = rng.choice(OPENINGS.get(stem, OPENINGS["Overview"]))
        return self._body([opening, "## About this video", *VIDEO_BLOCKS], topic)


def lesson_stem(title: str) -> str:
    """The kind of lesson a generated title names ("Key ideas 3" → "Key ideas")."""
    stem, _, number = title.rpartition(" ")
    return stem if number.isdigit() else title
