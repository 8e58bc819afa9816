"""Query parsing, typo distances and highlight escaping shared by every backend."""

import pytest

from catalog.search import text

S, E = text.MARK_START, text.MARK_END


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Python  Data", ["python", "data"]),
        ("a & b | !c:*", ["a", "b", "c"]),
        ('it\'s "quoted" \\ back', ["it", "s", "quoted", "back"]),
        ("node.js e-commerce ci/cd", ["node.js", "e-commerce", "ci/cd"]),
        ("--x-- ..y.. /z/", ["x", "y", "z"]),
        ("under_score", ["under", "score"]),
        ("Café Ünïcode", ["café", "ünïcode"]),
        ("<mark>py</mark>", ["mark", "py", "mark"]),
        ("", []),
        ("&|!():*<>'\\", []),
    ],
)
def test_terms_keep_words_and_drop_every_operator(query, expected):
    assert text.terms(query) == expected


def test_terms_are_bounded():
    assert len(text.terms("word " * 50)) == text.MAX_TERMS
    assert text.terms("x" * 500) == ["x" * text.MAX_TERM_CHARS]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("pyhton", "python", 1),  # a swap of neighbours is one edit
        ("javscript", "javascript", 1),
        ("pandsa", "pandas", 1),
        ("kubernets", "kubernetes", 1),
        ("dokcer", "docker", 1),
        ("pyton", "python", 1),
        ("pytohn", "python", 1),
        ("java", "javascript", 3),  # above the limit of 2: reported as 3
        ("same", "same", 0),
    ],
)
def test_edit_distance(a, b, distance):
    assert text.edit_distance(a, b, limit=2) == distance


def test_allowed_typos_grow_with_the_word():
    assert [text.allowed_typos(word) for word in ("py", "pyt", "pyth", "pythons", "pythonic")] == [
        0,
        0,
        1,
        1,
        2,
    ]
    assert text.allowed_typos("2026") == 0


def test_best_correction_prefers_the_closest_then_the_shortest_word():
    assert (
        text.best_correction("pyhton", ["pytorch", "python", "pythonic"], prefix=False) == "python"
    )
    assert text.best_correction("javscr", ["java", "javascript"], prefix=True) == "javascript"
    assert text.best_correction("pyth", ["python"], prefix=True) is None  # begins a word
    assert text.best_correction("python", ["python"], prefix=False) is None  # known
    assert text.best_correction("xyzzy", ["python"], prefix=False) is None  # nothing close
    assert text.best_correction("abc", ["abd"], prefix=False) is None  # too short to correct


@pytest.mark.parametrize(
    ("marked", "original", "html"),
    [
        (f"Intro to {S}Python{E}", "Intro to Python", "Intro to <mark>Python</mark>"),
        (
            f"<script>{S}x{E}</script> & \"'",
            "<script>x</script> & \"'",
            "&lt;script&gt;<mark>x</mark>&lt;/script&gt; &amp; &quot;&#x27;",
        ),
        (f"{S}<mark>{E}", "<mark>", "<mark>&lt;mark&gt;</mark>"),
        (None, "a < b", "a &lt; b"),
        # Not the original plus sentinels (an older index copy): escaped, unmarked.
        (f"{S}Old{E} title", "New title", "New title"),
        # Data that contains a sentinel is never trusted as markup.
        (f"{S}x{E}", f"{S}x{E}", f"{S}x{E}"),
    ],
)
def test_render_highlight_escapes_everything_but_its_own_marks(marked, original, html):
    assert text.render_highlight(marked, original) == html


def test_mark_words_marks_whole_words():
    marked = text.mark_words("JavaScript & java-script", lambda word: word == "javascript")
    assert text.render_highlight(marked, "JavaScript & java-script") == (
        "<mark>JavaScript</mark> &amp; java-script"
    )
