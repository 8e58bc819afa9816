"""Lesson text: Markdown written by instructors, rendered to sanitised HTML.

Two layers, so that no single mistake lets markup through:

1. markdown-it-py parses CommonMark (plus tables and strikethrough) with raw HTML *off*:
   `<script>` or `<img onerror=…>` in the source comes out as text. Its link check already
   refuses `javascript:`, `vbscript:`, `file:` and `data:` targets.
2. nh3 (Rust's ammonia) then cleans the output against an allow-list: only the tags
   Markdown produces, only `href`/`src`/`alt`/`title` (+ `class` from a fixed list), URLs
   relative or http(s)/mailto, no `style`, no event handler, no comment. Whatever a later
   parser option or plugin might let through stops here.

Code blocks are highlighted here, on the server, by Pygments: `<span class="k">`-style
classes, no inline style, coloured by the static stylesheet catalog/highlight.css
(`highlight_stylesheet()`; a test keeps the file equal to it). Nothing runs in the
browser, so the pages' strict Content-Security-Policy holds.

A `#` heading becomes `<h2>`: the lesson page's title is its one `<h1>`. Other levels stay,
so text that starts its sections at `##` keeps its outline.
"""

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Pygments' style: every token colour has at least 4.5:1 contrast on its white background
# (WCAG AA for text).
HIGHLIGHT_STYLE = "xcode"
HIGHLIGHT_CLASS = "highlight"
# Where the stylesheet lives, under the catalog app's static files.
HIGHLIGHT_STYLESHEET = "catalog/highlight.css"

_LANGUAGE = re.compile(r"^[A-Za-z0-9_+#.-]{1,40}$")

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "ul", "ol", "li", "strong", "em", "s", "code", "pre", "span", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@functools.cache
def _code_classes() -> dict[str, set[str]]:
    """The only classes that survive: Pygments' token classes on spans, the block's own
    class on <pre>, `language-<a Pygments alias>` on <code>."""
    languages = {f"language-{alias}" for _, aliases, _, _ in get_all_lexers() for alias in aliases}
    return {
        "span": {name for name in STANDARD_TYPES.values() if name},
        "pre": {HIGHLIGHT_CLASS},
        "code": languages,
    }


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        allowed_classes=_code_classes(),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        # A code block wider than a phone scrolls sideways: focusable, so a keyboard can
        # scroll it too (WCAG 2.1.1; axe's scrollable-region-focusable).
        set_tag_attribute_values={"pre": {"tabindex": "0"}},
    )


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(style=HIGHLIGHT_STYLE, nowrap=True)


def _highlight(code: str, language: str, _attrs: str) -> str:
    """A fenced block's HTML: highlighted when its language is known, else plain
    escaped text (no class made from an unknown name)."""
    plain = f"<pre><code>{html.escape(code, quote=False)}</code></pre>"
    if not language or not _LANGUAGE.match(language):
        return plain
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return plain
    spans = highlight(code, lexer, _formatter())
    alias = lexer.aliases[0] if lexer.aliases else language.lower()
    return f'<pre class="{HIGHLIGHT_CLASS}"><code class="language-{alias}">{spans}</code></pre>'


def _no_first_level_heading(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    if token.tag == "h1":
        token.tag = "h2"
    return renderer.renderToken(tokens, index, options, env)


@functools.cache
def _parser() -> MarkdownIt:
    options = {"html": False, "linkify": False, "typographer": False, "highlight": _highlight}
    parser = MarkdownIt("commonmark", options).enable(["table", "strikethrough"])
    parser.add_render_rule("heading_open", _no_first_level_heading)
    parser.add_render_rule("heading_close", _no_first_level_heading)
    return parser


def markdown_render(source: str) -> str:
    """Sanitised HTML for a lesson's Markdown body."""
    if not source.strip():
        return ""
    return html_sanitise(_parser().render(source))


def html_sanitise(html: str) -> str:
    """The allow-listed part of an HTML fragment (the second layer: markdown_render's
    parser already escapes raw HTML)."""
    return _cleaner().clean(html)


def highlight_stylesheet() -> str:
    """The CSS for highlighted code (catalog/static/catalog/highlight.css), scoped to the
    code blocks: Pygments' rules for the whole page (`pre`, line numbers) are left out."""
    rules = _formatter().get_style_defs(f".{HIGHLIGHT_CLASS}").splitlines()
    scoped = [rule for rule in rules if rule.startswith(f".{HIGHLIGHT_CLASS}")]
    # Plain text in the style's own colour, whatever the page's text colour is.
    scoped.append(f".{HIGHLIGHT_CLASS} {{ color: #000000; }}")
    header = (
        f"/* Highlighted code in lesson text: Pygments' {HIGHLIGHT_STYLE!r} style.\n"
        "   Generated by catalog.content.highlight_stylesheet(); do not edit by hand. */\n"
    )
    return header + "\n".join(scoped) + "\n"
