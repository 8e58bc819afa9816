"""The production storage of static files: WhiteNoise's compressed manifest storage (each
file under a content-hashed name, with gzip and, when the `brotli` package is installed,
Brotli copies beside it), plus the ES modules' imports rewritten to those hashed names.

The pages' scripts import each other by plain relative names (`import { api } from
"./api.js";`). Left alone, a page's entry module would be hashed and cached for good
while everything it imports kept its plain name, cached only WHITENOISE_MAX_AGE
seconds, and a browser could mix a new module with an old one across a deploy. With
the imports rewritten, every module is requested by its hashed name, which WhiteNoise
serves as `max-age=315360000, public, immutable`.

Django has this rewriting (`support_js_module_import_aggregation`), but its patterns
search from any `import`/`export` word onwards, comments included: "…a CSV roster export
per course…" in a comment followed by a real import makes it hash the already-hashed
name and fail. These patterns match statements only: at the start of a line, without
crossing a semicolon, relative URLs only.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage

# (pattern, template): Django's shape; `matched` is the text replaced, `url` the reference.
JS_MODULE_PATTERNS = (
    "*.js",
    (
        (
            r"""(?m)^(?P<matched>import(?P<import>\s*\{[^;]*?\}|\s+[\w$]+(?:\s*,\s*\{[^;]*?\})?"""
            r"""|\s*\*\s*as\s+[\w$]+)\s*from\s*["'](?P<url>\.{1,2}/[^"'\n]+)["']\s*;)""",
            """import%(import)s from "%(url)s";""",
        ),
        (
            r"""(?m)^(?P<matched>export(?P<exports>\s*\{[^;]*?\}|\s*\*(?:\s*as\s+[\w$]+)?)"""
            r"""\s*from\s*["'](?P<url>\.{1,2}/[^"'\n]+)["']\s*;)""",
            """export%(exports)s from "%(url)s";""",
        ),
        (
            r"""(?m)^(?P<matched>import\s*["'](?P<url>\.{1,2}/[^"'\n]+)["']\s*;)""",
            """import "%(url)s";""",
        ),
        (
            r"""(?P<matched>\bimport\(\s*["'](?P<url>\.{1,2}/[^"'\n]+)["']\s*\))""",
            """import("%(url)s")""",
        ),
    ),
)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed, and ES module imports pointing at the hashed names."""

    patterns = (*CompressedManifestStaticFilesStorage.patterns, JS_MODULE_PATTERNS)
