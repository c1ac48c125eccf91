"""axe-core for the browser tests: ``AxeReport`` checks pages at WCAG 2.1 AA and reports
every violation of every page at once; ``no_horizontal_scroll`` for the phone checks."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import ARTIFACTS, require_module

Axe = require_module("axe_playwright_python.sync_playwright", "accessibility checks").Axe

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = (375, 812)
DESKTOP = (1366, 900)


class AxeReport:
    """Runs axe on pages and keeps every violation, so one test reports all pages at once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.axe = Axe()
        self.pages: dict[str, list[dict[str, Any]]] = {}

    def check(self, page: Any, label: str) -> None:
        page.wait_for_load_state("networkidle")
        results = self.axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_21_AA},
                "resultTypes": ["violations"],
                # No CSSOM preload: it re-inserts the page's stylesheets as inline <style>,
                # which the CSP blocks (a false alarm of the CSP watch); the one rule it
                # feeds, css-orientation-lock, has nothing to find: no CSS locks orientation.
                "preload": False,
            },
        )
        self.pages[label] = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [
                    {
                        "target": n["target"],
                        "html": n["html"][:200],
                        "summary": n.get("failureSummary"),
                    }
                    for n in v["nodes"]
                ],
            }
            for v in results.response["violations"]
        ]

    def assert_clean(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"axe-{self.name}.json").write_text(json.dumps(self.pages, indent=2))
        failing = {label: v for label, v in self.pages.items() if v}
        lines = [
            f"{label}: {v['id']} ({v['impact']}) {v['help']} -> {[n['target'] for n in v['nodes']]}"
            for label, violations in failing.items()
            for v in violations
        ]
        assert not failing, "axe-core WCAG 2.1 AA violations:\n" + "\n".join(lines)
        assert len(self.pages) >= 1


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
