"""Real-browser helpers: a Streamlit server on loopback and headless Chromium driven by Playwright.

Import the fixtures into a test module with ``from tests.browser import app_server, browser_page``.
Chromium comes from Debian's package (/usr/bin/chromium); Playwright never downloads a browser here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"  # written only by bench/screenshots.py
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    """A running ``streamlit run`` process."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_app(extra_env: dict[str, str] | None = None, app_args: list[str] | None = None) -> AppServer:
    """Start the app on a free loopback port and wait for its health check."""
    port = _free_port()
    log_path = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(extra_env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    if app_args:
        command += ["--", *app_args]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return AppServer(url, process, log_path)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not become healthy:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def app_server() -> Iterator[AppServer]:
    """The app on the bundled demo store."""
    server = start_app()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium is not installed at {CHROMIUM}; the test command installs it (apt-get install chromium)"
            )
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright gives every launch a fresh temporary profile of its own (the --user-data-dir we want).
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_chromium):
    """A fresh page (1600x1000) in headless Chromium."""
    context = _chromium.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


# The demo store's trainings (lib/demo): the Checkpoints browser tests draw these.
DEMO_TRAININGS = (
    "fjordline/Finch-1.8B-ablation",
    "meridian-ai/Cirrus-7B",
    "northwind-labs/Tern-1B",
    "pellet-collective/Pellet-410M",
)

# A demo results file the browser tests copy under another model's name (a result the store did not have).
DEMO_RESULT = "kestrel-nlp__Kestrel-12B-Instruct/results_2026-02-28T03-35-49.270484.json"


def add_demo_model(root: Path, name: str) -> None:
    """Write ``root/results/kestrel-nlp__<name>/...json``: a copy of ``DEMO_RESULT`` for the model
    ``kestrel-nlp/<name>`` (no request file), atomically, as the evaluator writes results."""
    added = json.loads((root / "results" / DEMO_RESULT).read_text(encoding="utf-8"))
    added["model_name"] = f"kestrel-nlp/{name}"
    added["model_name_sanitized"] = f"kestrel-nlp__{name}"
    added["config"]["model_args"]["pretrained"] = f"kestrel-nlp/{name}"
    added.pop("request", None)
    path = root / "results" / f"kestrel-nlp__{name}" / "results_2026-03-01T00-00-00.000000.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(added, indent=2), encoding="utf-8")
    os.replace(tmp, path)


# What a phone's Chromium sends (Android, "Mobile"): the app narrows its table's columns for it.
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def phone_page(_chromium):
    """A fresh page the size of a phone (400x850) whose browser says it is a phone."""
    context = _chromium.new_context(viewport={"width": 400, "height": 850}, user_agent=PHONE_USER_AGENT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def menu_link(page, title: str):
    """The app's own sidebar menu entry ``title`` (``lib.ui.pages.run_app`` draws it with ``st.page_link``)."""
    return page.locator("[data-testid='stSidebar'] .st-key-app_menu").get_by_role("link", name=title)


def wait_for_app(page, text: str | None = None, timeout: float = 30_000) -> None:
    """Wait until Streamlit has rendered and stopped running (and ``text`` is visible, if given)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    if text:
        page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def open_submit_form(page) -> None:
    """Switch the sidebar's "Submit a model" on (the form is built only then) and wait for its fields."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator(".st-key-submit_open").get_by_text("Submit a model").click()
    sidebar.get_by_placeholder("org/model-name").wait_for()
