"""A query as the database engines match it: one position per typed term, each a set of
alternatives (the term itself, its typo correction, its synonyms' expansions), every
position required.

    positions("js testing", fixes=[None, None], synonyms={"js": [("javascript",)]})
    → (
        (Option(("js",)), Option(("javascript",))),
        (Option(("testing",), prefix=True),),
      )

Rules, the same on PostgreSQL and SQLite (docs/search-relevance.md):
- the last typed term is a prefix; a last term shorter than SHORT_PREFIX characters
  matches titles only;
- a correction replaces a typed term as an alternative (a prefix too when it is the last);
- a synonym's expansion is an alternative of whole words, all required ("machine
  learning"), matched in every field whatever the length of the term it stands for.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SHORT_PREFIX = 3

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Option:
    """One alternative of a position: words that must all match."""

    words: Phrase
    prefix: bool = False  # the last word is matched as a prefix
    titles_only: bool = False  # a short prefix: matched in titles only


Position = tuple[Option, ...]


def positions(
    words: Sequence[str],
    *,
    fixes: Sequence[str | None] = (),
    synonyms: Mapping[str, Sequence[Phrase]] | None = None,
) -> tuple[Position, ...]:
    last = len(words) - 1
    built = []
    for index, word in enumerate(words):
        is_last = index == last
        options = [Option((word,), prefix=is_last, titles_only=is_last and short(word))]
        fix = fixes[index] if index < len(fixes) else None
        if fix and fix != word:
            options.append(Option((fix,), prefix=is_last))
        for phrase in (synonyms or {}).get(word, ()):
            option = Option(tuple(phrase))
            if phrase and phrase != (word,) and option not in options:
                options.append(option)
        built.append(tuple(options))
    return tuple(built)


def short(word: str) -> bool:
    return len(word) < SHORT_PREFIX


def typed(position: Position) -> str:
    """The term the user typed at this position."""
    return position[0].words[0]


def every_word(positions_: Sequence[Position]) -> set[str]:
    """Every word any alternative names (what highlights may mark)."""
    return {word for position in positions_ for option in position for word in option.words}
