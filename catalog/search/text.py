"""What every backend does to the user's text: split it into terms, correct typos against
known words, and turn engine highlights into safe HTML.

User text never reaches a query language as such. A term is a run of letters and digits,
optionally joined by "." "-" "/" inside a word ("node.js", "e-commerce", "ci/cd");
everything else — quotes, backslashes, & | ! ( ) : * < > and the like — only separates
terms. Backends then quote each term in their own syntax.
"""

import html
import re
from collections.abc import Callable, Iterable, Sequence

from catalog.shapes import SEARCH_TERM, SEARCH_TERM_MAX

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = SEARCH_TERM_MAX
# Highlight sentinels asked of the engines: control characters never typed in course text.
# Data that does contain one is shown escaped and unhighlighted rather than trusted.
MARK_START = "\x02"
MARK_END = "\x03"

_TERM = re.compile(SEARCH_TERM)


def terms(query: str) -> list[str]:
    """The query's search terms, lower-cased; the last one is matched as a prefix."""
    found = _TERM.findall(query[:MAX_QUERY_CHARS].lower())
    return [term[:MAX_TERM_CHARS] for term in found[:MAX_TERMS]]


def normalized(query: str) -> str:
    """The query as the engines see it (what a cache key or the trigram pass uses)."""
    return " ".join(terms(query))


# --- highlights ----------------------------------------------------------------------


def render_highlight(marked: str | None, original: str) -> str:
    """HTML for a highlighted field: escaped text, with only <mark>…</mark> as markup.

    `marked` is the engine's copy of `original` with sentinels around the matches. If it
    is not exactly the original plus sentinels (data containing a sentinel, or an engine
    copy older than the database row), the original is returned escaped and unmarked.
    """
    if marked is None or MARK_START in original or MARK_END in original:
        return html.escape(original)
    if marked.replace(MARK_START, "").replace(MARK_END, "") != original:
        return html.escape(original)
    return html.escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def mark_words(text: str, should_mark: Callable[[str], bool]) -> str:
    """`text` with sentinels around each word for which should_mark(word.lower()) holds."""

    def replace(match: re.Match) -> str:
        word = match.group()
        return f"{MARK_START}{word}{MARK_END}" if should_mark(word.lower()) else word

    return _TERM.sub(replace, text)


# --- typo tolerance ------------------------------------------------------------------


def allowed_typos(term: str) -> int:
    """Edits forgiven in a term: none below 4 characters, one up to 7, two from 8."""
    if len(term) < 4 or any(char.isdigit() for char in term):
        return 0
    return 1 if len(term) < 8 else 2


def edit_distance(a: str, b: str, *, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit); anything
    above `limit` is reported as limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def typo_distance(term: str, word: str, *, prefix: bool, limit: int) -> int:
    """Distance from `term` to `word`, or to a beginning of `word` when the term is the
    prefix being typed ("javscr" is one edit from "javascript")."""
    if not prefix:
        return edit_distance(term, word, limit=limit)
    lengths = range(max(1, len(term) - limit), len(term) + limit + 1)
    return min(edit_distance(term, word[:length], limit=limit) for length in lengths)


def best_correction(term: str, candidates: Iterable[str], *, prefix: bool) -> str | None:
    """The known word closest to `term` within its allowed typos; ties go to the shorter
    word, then alphabetical order. None when the term is known or nothing is close."""
    limit = allowed_typos(term)
    if limit == 0:
        return None
    best: tuple[int, int, str] | None = None
    for word in candidates:
        if word == term or (prefix and word.startswith(term)):
            return None  # the term is a known word (or begins one): nothing to correct
        if len(word) < 3 or any(char.isdigit() for char in word):
            continue
        distance = typo_distance(term, word, prefix=prefix, limit=limit)
        if distance <= limit:
            key = (distance, len(word), word)
            best = key if best is None or key < best else best
    return best[2] if best else None


def suggested_query(words: Sequence[str], fixes: Sequence[str | None]) -> str | None:
    """The query as it would read with its corrections ("Did you mean …"): the terms with
    each corrected one replaced; None when nothing was corrected."""
    if not any(fixes):
        return None
    return " ".join(fix or word for word, fix in zip(words, fixes, strict=True))


def corrections_made(words: Sequence[str], fixes: Sequence[str | None]) -> tuple[str, ...]:
    """The corrections as "term→correction" (for logs and the benchmark)."""
    return tuple(f"{word}→{fix}" for word, fix in zip(words, fixes, strict=True) if fix)


def similar(term: str, word: str, *, prefix: bool) -> bool:
    """True when `word` is `term` (or begins with it, for a prefix) or a close typo of it."""
    if word == term or (prefix and word.startswith(term)):
        return True
    limit = allowed_typos(term)
    return limit > 0 and typo_distance(term, word, prefix=prefix, limit=limit) <= limit
