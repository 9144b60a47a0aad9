"""axe-core in the browser tests: inject the vendored script into a Playwright page and
return its WCAG 2.1 A/AA violations of impact serious or critical.

The script (tests/e2e/vendor/axe-core-<version>/, from the npm registry) is evaluated
through the DevTools protocol, not added as a <script> tag: the app's
Content-Security-Policy (no inline scripts) stays in force for the page itself.
"""

from functools import cache
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS = ("serious", "critical")

_RUN = """async ([tags, impacts]) => {
  const result = await window.axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      tags: v.tags,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        html: n.html.slice(0, 200),
        summary: (n.failureSummary || '').slice(0, 300),
      })),
    }));
}"""


@cache
def _axe_source():
    return AXE_JS.read_text(encoding="utf-8")


def inject(page):
    """Load axe into the page once (a navigation needs it again)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    assert page.evaluate("() => window.axe.version") == AXE_VERSION


def serious_violations(page, tags=WCAG_21_AA, impacts=BLOCKING_IMPACTS):
    """The page's violations of the WCAG 2.1 A/AA rules with impact serious or critical."""
    inject(page)
    return page.evaluate(_RUN, [list(tags), list(impacts)])


def describe(violations):
    """One readable line per failing element, for an assertion message."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(f"{violation['impact']} {violation['id']} ({violation['help']}): {node['target']} "
                         f"{node['html']!r} {node['summary']}")
    return "\n".join(lines)
