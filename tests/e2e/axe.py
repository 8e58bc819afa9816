"""axe-core in the browser tests: the engine is injected into the page under test and run
there; a page passes with no violation at all (every rule of axe's default set, WCAG 2.x
A and AA included).

axe-core comes from the axe-playwright-python package (a dev dependency in uv.lock),
which ships axe.min.js; Playwright evaluates it through the DevTools protocol, which the
page's Content-Security-Policy does not apply to, so the page runs under its real policy.
"""

import functools
from pathlib import Path
from typing import Any

import axe_playwright_python

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


# Waits for every running animation and transition that ends (a spinner's never does).
SETTLE_ANIMATIONS = """async () => {
  const finite = document.getAnimations().filter(
    (animation) => animation.effect?.getComputedTiming().endTime !== Infinity,
  );
  await Promise.allSettled(finite.map((animation) => animation.finished));
}"""


def axe_violations(page, *, include: str | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page once its finite animations and transitions have ended
    (or within the `include` selector): a toast fading out is half transparent, and axe
    would measure the contrast of that passing frame."""
    page.evaluate(SETTLE_ANIMATIONS)
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    return page.evaluate(
        """async (include) => {
          const results = await axe.run(include ? { include: [include] } : document, {
            resultTypes: ["violations"],
          });
          return results.violations;
        }""",
        include,
    )


def describe(violations: list[dict[str, Any]]) -> list[str]:
    """One line per violated rule: its id, impact, help text and the first offending nodes."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} → "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]


def assert_accessible(page, *, include: str | None = None) -> None:
    violations = axe_violations(page, include=include)
    assert violations == [], describe(violations)
