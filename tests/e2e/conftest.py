"""A real portal for the browser tests: the emulator, gunicorn, a Celery worker, Chromium.

Session fixtures start, once per run: the Ninox emulator as an HTTP server on demo data,
the portal under gunicorn (migrated, synced with ``ninox_sync --full``, demo users made
by ``demo_setup``) on a socket this process bound to a port the OS chose, a real Celery
worker on a SQLite broker, and Debian's Chromium driven by Playwright. Each test gets a fresh browser context and a ``page`` that fails the test
when it logs a CSP violation or a JavaScript error.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.servers import listening_socket, start_gunicorn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMULATOR_TOKEN = "e2e-emulator-token"
DEMO_PASSWORD = "e2e-demo-password-1234"
DEMO_SEED = 11
# How long a page action or an expect() waits for its condition: it bounds a hang only (the
# condition is met as soon as it holds), so it is generous for a loaded 2-core CI machine.
WAIT_MS = 30_000
START_TIMEOUT = 180  # bounds a hang of gunicorn or the worker starting on a loaded machine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/e2e is a browser test."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def require_module(name: str, why: str) -> Any:
    """Import a browser-test dependency; skip the module without it (fail under REQUIRE_SERVICES=1)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f"{name} is not installed ({why}; pip install -r requirements-dev.txt)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"required service missing: {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass
class DemoLodge:
    number: int
    name: str
    fy_total: Decimal

    @property
    def remaining(self) -> Decimal:
        return Decimal("4000.00") - self.fy_total


@dataclass
class Portal:
    """The running portal, the emulator behind it, and lodges to apply for."""

    base: str
    env: dict[str, str]
    data_dir: Path
    emulator: Any
    lodges: dict[str, list[DemoLodge]] = field(default_factory=dict)
    review_lodge: DemoLodge | None = None

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def take_lodge(self, category: str) -> DemoLodge:
        """A demo lodge of a current-FY category (none, near, cap, inactive) no test used yet."""
        pool = self.lodges[category]
        if not pool:
            pytest.fail(f"the demo has no unused lodge left in category {category!r}")
        return pool.pop(0)

    def lodge_for_review(self) -> DemoLodge:
        """One lodge set aside for applications made only to wait for review, shared by the
        tests that need one (each adds a small pending amount; its budget is not checked)."""
        if self.review_lodge is None:
            self.review_lodge = self.take_lodge("none")
        return self.review_lodge

    def ninox_grants(self, reference: str) -> list[Decimal]:
        """The Amounts of Ninox grant records with this Reference, asked of the emulator."""
        amounts = self.emulator.query(
            "demo", "grants", f'(select Grants where Reference = "{reference}").Amount'
        )
        return [_money(a) for a in (amounts or [])]

    def emails_for(self, reference: str) -> list[tuple[str, str, str]]:
        """(kind, to, status) of the portal's EmailLog rows for an application (read-only)."""
        with sqlite3.connect(f"file:{self.data_dir / 'portal.sqlite3'}?mode=ro", uri=True) as db:
            rows = db.execute(
                'SELECT e.kind, e."to", e.status FROM grants_emaillog e '
                "JOIN grants_application a ON a.id = e.application_id WHERE a.reference = ?",
                (reference,),
            ).fetchall()
        return [(str(k), str(t), str(s)) for k, t, s in rows]


def _demo_lodges(emulator: Any, categories: dict[str, list[int]]) -> dict[str, list[DemoLodge]]:
    """Each category's lodges with their number, name and FY total, asked of the emulator."""
    lodges: dict[str, list[DemoLodge]] = {}
    for category, record_ids in categories.items():
        lodges[category] = [
            DemoLodge(
                number=int(
                    _money(emulator.query("demo", "grants", f"record(Lodges,{rid}).Number"))
                ),
                name=str(emulator.query("demo", "grants", f"record(Lodges,{rid}).Name")),
                fy_total=_money(
                    emulator.query("demo", "grants", f"record(Lodges,{rid}).'FY Total'")
                ),
            )
            for rid in record_ids
        ]
    return lodges


def _wait_for_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the portal exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail(f"the portal did not answer {url} in {START_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def _wait_for_worker(proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        if re.search(r"celery@\S+ ready", log.read_text(errors="replace")):
            return
        time.sleep(0.3)
    pytest.fail(f"the Celery worker was not ready in {START_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Any]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        require_service(
            "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
        )
    if not Path(CHROMIUM).exists():
        require_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    expect.set_options(timeout=WAIT_MS)  # its own default is 5 s
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="session")
def browser(playwright_api: Any) -> Iterator[Any]:
    try:
        launched = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken install: say why
        require_service(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Portal]:
    """The portal on gunicorn with a real worker, the emulator behind it, demo data synced.

    Depends on ``browser`` so that a machine without Chromium skips before starting servers.
    """
    from ninox_backend.emulator import Emulator

    data_dir = tmp_path_factory.mktemp("portal-data")
    # E2E_NINOX_API=workspace runs every journey on Ninox's workspace API instead.
    api = os.environ.get("E2E_NINOX_API", "classic")
    emulator = Emulator(token=EMULATOR_TOKEN, dialect="workspace" if api == "workspace" else None)
    info = emulator.seed_demo(seed=DEMO_SEED)
    ninox_url = emulator.start_background(host="127.0.0.1", port=0)
    # Bound here, handed to gunicorn: the port is the portal's from the start.
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "NINOX_", "GRANT_"))
        },
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_ENV_FILE": "",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "true",  # WhiteNoise serves the static files from the finders
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BASE_URL": base,
        "NINOX_BASE_URL": ninox_url.removesuffix("/v1") if api == "workspace" else ninox_url,
        "NINOX_API_KEY": EMULATOR_TOKEN,
        "NINOX_API": api,
        "NINOX_WORKSPACE_ID": info.team_id,
        "NINOX_MODULE": info.database_id,
        "PORTAL_REQUIRE_2FA": "false",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{data_dir / 'broker.sqlite3'}",
        "EMAIL_URL": "consolemail://",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "PORTAL_APPLY_RATE_PER_HOUR": "10000",  # many applications from 127.0.0.1
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--no-input", "-v", "0"], ["ninox_sync", "--full"], ["demo_setup"]):
        done = subprocess.run(
            [*manage, *command], cwd=ROOT, env=env, timeout=300, capture_output=True, text=True
        )
        if done.returncode != 0:
            emulator.stop()
            sock.close()
            pytest.fail(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    web_log, worker_log = data_dir / "web.log", data_dir / "worker.log"
    with web_log.open("wb") as web_out, worker_log.open("wb") as worker_out:
        # One process, threads for the browser's parallel requests (as runserver had).
        web = start_gunicorn(
            sock,
            ["--workers", "1", "--threads", "8", "--timeout", "120", "--access-logfile", "-"],
            cwd=ROOT,
            env=env,
            stdout=web_out,
            stderr=subprocess.STDOUT,
        )
        sock.close()  # gunicorn has its own copy; a dead gunicorn now refuses, not hangs
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "INFO"),
                *("--concurrency", "2", "--without-gossip", "--without-mingle"),
            ],
            cwd=ROOT,
            env=env,
            stdout=worker_out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_http(f"{base}/healthz", web, web_log)
        _wait_for_worker(worker, worker_log)
        yield Portal(
            base=base,
            env=env,
            data_dir=data_dir,
            emulator=emulator,
            lodges=_demo_lodges(emulator, info.categories),
        )
    finally:
        _stop(worker)
        _stop(web)
        emulator.stop()
        if os.environ.get("E2E_KEEP_LOGS"):
            shutil.copy(web_log, ARTIFACTS / "web.log")
            shutil.copy(worker_log, ARTIFACTS / "worker.log")


class PageProblems:
    """CSP violations and JavaScript errors a page reported while a test ran."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def console(self, message: Any) -> None:
        text = message.text
        source = message.location.get("url", "")
        if source and message.page and source == message.page.url and "status of 4" in text:
            return  # the document's own 4xx (a form shown again with its errors is a 422)
        if message.type == "error" or "Content Security Policy" in text:
            on_page = message.page.url if message.page else "?"
            self.problems.append(f"console {message.type} on {on_page}: {text} ({source})")

    def page_error(self, error: Any) -> None:
        self.problems.append(f"page error: {error}")


# Listens before any of the page's own scripts run; CSP does not apply to init scripts.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " +
                (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(browser: Any, portal: Portal, page_problems: PageProblems) -> Iterator[Any]:
    """A factory of pages (one browser context each) watched for CSP and JS errors."""
    contexts: list[Any] = []

    def make(width: int = 1366, height: int = 900) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=portal.base
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(CSP_LISTENER)
        page.on("console", page_problems.console)
        page.on("pageerror", page_problems.page_error)
        return page

    yield make
    for context in contexts:
        context.close()
    if page_problems.problems:
        pytest.fail("the pages reported problems:\n" + "\n".join(page_problems.problems))


@pytest.fixture
def page(new_page: Any) -> Any:
    """A desktop-sized page (1366 x 900)."""
    return new_page()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Any:
    """``shot(page, "step")`` saves a full-page screenshot under tests/e2e/artifacts/<test>/."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)
    counter = iter(range(1, 1000))

    def take(page: Any, step: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "-", step)
        path = folder / f"{next(counter):02d}-{name}.png"
        # caret="initial": hiding the caret leaves style="" on inputs, which htmx's settle
        # step then copies, and CSP (rightly) blocks: a false alarm made by the screenshot.
        page.screenshot(path=str(path), full_page=full_page, caret="initial")
        return path

    return take


def sign_in(page: Any, username: str) -> None:
    """Sign in through /login/ as one of the demo users (admin, reviewer, finance)."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/(\?.*)?$"))
    assert page.get_by_text("Signed in as").is_visible()
