"""Browser fixtures: a live server with the catalog, a checked page, screenshots for people to look at."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from wizard.catalog.loader import load_catalog

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = Axe()


@pytest.fixture
def catalog(transactional_db):
    # Browser tests run on a live server, whose database is emptied after every test.
    load_catalog()


class Checked:
    """Wraps a Playwright page: records console errors and CSP violations, runs axe, saves screenshots."""

    def __init__(self, page, base_url: str, name: str, axe_page=None):
        self.page, self.base_url, self.name = page, base_url, name
        # With JavaScript off, axe can't run in the page itself: it checks a copy of the same DOM instead.
        self.axe_page = axe_page
        self.problems: list[str] = []
        self.shots = 0
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and self.problems.append(f"console: {msg.text[:60]} on {page.url} after {self.shots} checks")
            ),
        )
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def goto(self, path: str):
        self.page.goto(self.base_url + path)

    def check(self, label: str):
        """Every page and state a journey reaches: no accessibility violation, and a screenshot."""
        self.page.wait_for_load_state("networkidle")
        if self.axe_page is None:
            results = AXE.run(self.page)
        else:
            self.axe_page.goto(self.base_url + "/")
            self.axe_page.set_content(self.page.content())
            results = AXE.run(self.axe_page)
        assert results.violations_count == 0, f"{label}: {results.generate_report()}"
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.name}-{self.shots:02d}-{label}".lower()).strip("-")
        self.page.screenshot(path=SCREENSHOTS / f"{slug}.png", full_page=True)

    def assert_clean(self):
        assert self.problems == [], self.problems


@pytest.fixture
def checked(browser, live_server, catalog, sandbox, request):
    """A checked page; parametrize indirectly with False to run the journey with JavaScript off."""
    javascript = getattr(request, "param", True)
    context = browser.new_context(java_script_enabled=javascript)
    axe_context = None if javascript else browser.new_context()
    wrapper = Checked(
        context.new_page(),
        live_server.url,
        request.node.name,
        axe_page=axe_context.new_page() if axe_context else None,
    )
    wrapper.javascript = javascript
    yield wrapper
    context.close()
    if axe_context:
        axe_context.close()
    wrapper.assert_clean()
