"""Accessibility checks with axe-core (from npm, installed by scripts/browser) run in the
page: `assert_accessible(page)` fails with every violation axe finds, rule by rule.

axe is evaluated through the DevTools protocol rather than added as a <script> element: the
pages' Content-Security-Policy refuses inline scripts, and the test must not weaken it."""

from pathlib import Path

import pytest

from tests.live import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.x A and AA, plus axe's best practices (landmarks, headings, …).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

RUN = """async (tags) => {
  const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`),
  }));
}"""


def _source() -> str:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/browser (npm ci)")
    return Path(AXE).read_text()


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source() + "\n;true")
    return page.evaluate(RUN, TAGS)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node}" for node in violation["nodes"][:5])
    return "\n".join(lines)


def assert_accessible(page, name: str = "") -> None:
    violations = axe_violations(page)
    assert violations == [], f"{name or page.url}: axe found\n{describe(violations)}"
