"""Browser fixtures: the real app served on 127.0.0.1 and Chromium driven by Playwright.

The whole folder is skipped, with the reason in the summary, when Debian's Chromium
(/usr/bin/chromium) or Playwright is missing. CI sets CLUSTERPACT_REQUIRE_BROWSER, and then a
missing browser fails every test here instead of skipping it.

One app and one SQLite database serve the whole session (tests create their own uniquely named
organisations and users); one Chromium serves the session and each test gets a fresh browser
context, so cookies never leak from one test to another. Every network request the page makes
must go to the app on 127.0.0.1; anything else is aborted and fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "CLUSTERPACT_REQUIRE_BROWSER"
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    # Belt and braces: nothing but the app's loopback address resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
DEFAULT_TIMEOUT_MS = 15_000


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    reason = _missing_browser()
    if reason and not os.environ.get(REQUIRE_ENV):
        skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
        for item in mine:
            item.add_marker(skip)


# --------------------------------------------------------------------------------------------
# The app, served for real


@dataclass
class LiveApp:
    app: object
    url: str
    database_url: str
    sessions: object  # a session factory on the app's database


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app (TestingConfig, a fresh migrated SQLite file, the clause library
    published) served by werkzeug in a background thread on a free port of 127.0.0.1."""
    reason = _missing_browser()
    if reason:  # only reached when CLUSTERPACT_REQUIRE_BROWSER is set
        pytest.fail(f"{REQUIRE_ENV} is set but the browser tests cannot run: {reason}",
                    pytrace=False)
    from werkzeug.serving import make_server

    from config import TestingConfig
    from contracts.publish import library_payload
    from web import create_app
    from web.migrate import upgrade
    from workflow.db import make_engine, make_session_factory
    from workflow.roles import SYSTEM_ACTOR
    from workflow.services.library import sync_library

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        sync_library(session, SYSTEM_ACTOR, library_payload())

    config = TestingConfig()
    config.DATABASE_URL = url
    config.INSTANCE_PATH = tmp_path_factory.mktemp("browser-instance")
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-app", daemon=True)
    thread.start()
    try:
        yield LiveApp(app, f"http://127.0.0.1:{server.server_port}", url, sessions)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["clusterpact.engine"].dispose()
        engine.dispose()


@pytest.fixture(autouse=True)
def _app_documents(request, document_layer):
    """While a browser test runs, the workflow's document effects are the served app's (its
    platform key and verifier); afterwards the suite's test binding is put back, so tests that
    run later in the same process see what tests/conftest.py bound."""
    if "live_app" not in request.fixturenames:
        yield
        return
    from contracts.issuing import bind

    bind(request.getfixturevalue("live_app").app.extensions["clusterpact.documents"])
    yield
    bind(document_layer)


# --------------------------------------------------------------------------------------------
# People and organisations, created through the services


_seq = count(1)


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    role: str
    organisation_id: int | None
    password: str = PASSWORD


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    country: str


class World:
    """Creates organisations, users and partnerships on the served app's database through the
    domain services (never raw SQL), so they carry a real audit trail."""

    def __init__(self, sessions) -> None:
        self._sessions = sessions
        self.tag = secrets.token_hex(3)

    @staticmethod
    def _off_loop(fn, *args):
        """Run `fn` in a worker thread: Playwright's sync API owns this thread's event loop,
        and pyHanko (certifying an issued PDF) starts one of its own with asyncio.run."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(fn, *args).result()

    def org(self, country: str, kind: str = "cluster", name: str | None = None) -> Org:
        from workflow.roles import SYSTEM_ACTOR
        from workflow.services.organisations import create_organisation

        name = name or f"Org {next(_seq)} {country} {self.tag}"
        with self._sessions() as session:
            o = create_organisation(session, SYSTEM_ACTOR, name, country, kind, None)
            return Org(o.id, o.name, o.country)

    def user(self, role: str, org: Org | None = None, name: str | None = None) -> Person:
        from workflow.roles import SYSTEM_ACTOR
        from workflow.services.users import create_user

        n = next(_seq)
        email = f"{role}{n}-{self.tag}@example.org"
        name = name or f"{role.title()} {n}"
        with self._sessions() as session:
            u = create_user(session, SYSTEM_ACTOR, email, name, role, PASSWORD,
                            org.id if org else None)
            return Person(u.id, u.email, u.display_name, u.role, u.organisation_id)

    def partnership(self, owner: Person, legal: Person, eu: Org, counterpart: Org,
                    stage: str = "draft") -> tuple[int, str]:
        """A partnership walked to `stage` through the services: (id, reference)."""
        from tests.helpers import build_partnership
        from workflow.models import Organisation, User

        def build():
            with self._sessions() as session:
                p = build_partnership(
                    session, session.get(User, owner.id), session.get(User, legal.id),
                    session.get(Organisation, eu.id), session.get(Organisation, counterpart.id),
                    stage)
                return p.id, p.reference

        return self._off_loop(build)

    def party_id(self, partnership_id: int, org: Org) -> int:
        """The id of `org`'s party in a partnership (it names the party's signature field)."""
        from sqlalchemy import select

        from workflow.models import Party

        with self._sessions() as session:
            return session.scalar(select(Party.id).where(
                Party.partnership_id == partnership_id, Party.organisation_id == org.id))


@pytest.fixture(scope="session")
def world(live_app) -> World:
    return World(live_app.sessions)


# --------------------------------------------------------------------------------------------
# Chromium


@pytest.fixture(scope="package")
def browser(live_app):
    """Chromium, shared by the tests of this folder. Package-scoped on purpose: Playwright's
    sync API keeps an asyncio loop running on the main thread while it is open, and every
    synchronous pyHanko call (asyncio.run) in a later test of the same process would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


@dataclass
class BrowserProblems:
    """What a test's pages did wrong: console errors, uncaught page errors, requests that
    left 127.0.0.1, sub-resources (styles, fonts, images) answered with an error status, and
    accessibility-audit findings. Collected while the test runs, so one broken page does not
    hide the rest of a journey, and turned into the test's failure when its body has finished
    (see pytest_runtest_call below)."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    off_host: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate console errors matching `pattern` (e.g. Chromium's log line for a page that
        a test expects to answer 404)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        console = [c for c in self.console if not any(p.search(c) for p in self.allowed)]
        return ([f"console error: {c}" for c in console]
                + [f"page error: {e}" for e in self.page_errors]
                + [f"request left 127.0.0.1: {u}" for u in self.off_host]
                + [f"failed to load: {f}" for f in self.failed_loads]
                + [f"accessibility: {a}" for a in self.audit])

    def report(self) -> str:
        return "browser problems:\n  " + "\n  ".join(self.unexpected())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose pages had problems, even when its assertions all held; when
    an assertion failed, show the problems next to it."""
    problems = getattr(item, "funcargs", {}).get("problems")
    if not isinstance(problems, BrowserProblems):
        return (yield)
    try:
        result = yield
    except BaseException:
        if problems.unexpected():
            item.add_report_section("call", "browser problems", problems.report())
        raise
    if problems.unexpected():
        pytest.fail(problems.report(), pytrace=False)
    return result


@pytest.fixture
def problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def page(browser, live_app, problems):
    """A page in a fresh context (own cookies) of the session's Chromium. Console errors, page
    errors, failed sub-resource loads and requests to anything but the app fail the test."""
    context = browser.new_context(base_url=live_app.url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    app_host = urlsplit(live_app.url).netloc

    def guard(route):
        target = urlsplit(route.request.url)
        if target.scheme in ("http", "https") and target.netloc != app_host:
            problems.off_host.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def console(msg):
        if msg.type == "error":
            source = (msg.location or {}).get("url") or ""
            where = pg.url if source in ("", pg.url) else f"{source}, on {pg.url}"
            problems.console.append(f"{msg.text} ({where})")

    context.route("**/*", guard)
    pg = context.new_page()
    pg.on("console", console)
    pg.on("pageerror", lambda exc: problems.page_errors.append(f"{exc} ({pg.url})"))
    # Name the resource behind Chromium's "Failed to load resource" console line.
    pg.on("response", lambda res: problems.failed_loads.append(
        f"{res.status} for {res.request.resource_type} {res.url} (on {pg.url})")
        if res.status >= 400 and res.request.resource_type != "document" else None)
    yield pg
    context.close()


# What every page must get right, checked on each screenshot: one h1, no skipped heading
# level, every visible form control with an accessible name, every button and link named.
A11Y_AUDIT = """() => {
  const issues = [];
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(visible);
  const h1 = headings.filter(h => h.tagName === 'H1').length;
  if (h1 !== 1) issues.push(`${h1} h1 headings`);
  let last = 0;
  for (const h of headings) {
    const level = Number(h.tagName[1]);
    if (level > last + 1)
      issues.push(`heading level skipped: h${level} "${h.innerText}" after h${last}`);
    last = level;
  }
  const named = el => (el.getAttribute('aria-label') || '').trim() ||
    (el.getAttribute('aria-labelledby') || '').trim() || (el.labels && el.labels.length);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    if (['submit', 'button', 'reset'].includes(el.type) ? !(el.value || named(el)) : !named(el))
      issues.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (visible(el) && !(el.innerText.trim() || named(el) || el.title))
      issues.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
  }
  return issues;
}"""


@pytest.fixture
def shot(page, problems, request):
    """`shot(name)`: save a full-page screenshot as test-output/screenshots/<test>-<nn>-<name>.png
    and run the accessibility audit on the page (findings fail the test at its end, with the
    console errors)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    numbers = count(1)

    for old in SCREENSHOTS.glob(f"{test}-*.png"):  # no stale pictures from earlier runs
        old.unlink()

    def take(name: str) -> Path:
        page.wait_for_load_state("load")
        path = SCREENSHOTS / f"{test}-{next(numbers):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        problems.audit.extend(f"{issue} (on {name}, {page.url})"
                              for issue in page.evaluate(A11Y_AUDIT))
        return path

    return take
