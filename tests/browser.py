"""A real browser for the gallery page tests: Debian's headless Chromium, via selenium.

`scripts/install-test-tools` (run by the README's test command, so by ``.ci/run``)
installs ``chromium`` and ``chromium-driver``. Where they are missing the browser tests
skip, except under ``CI=true``, where a missing browser is a failure, not a pass.

Chromium is started with the flags that work here as root and that keep it from
talking to the network on its own (background networking, component updates, sync),
so every request the tests see comes from the page.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,900",
)


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by selenium, shared by the session's tests."""
    chromium = _find("chromium", "chromium-browser", "google-chrome")
    driver_path = _find("chromedriver")
    if chromium is None or driver_path is None:
        message = "Chromium and ChromeDriver are needed: run scripts/install-test-tools"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="imgcall-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, url: str, *, timeout: float = 30) -> None:
    """Load ``url`` with fresh logs, and wait until the page's script has run."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    drain(driver)
    driver.get(url)
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready")
    )


def drain(driver: Any) -> None:
    """Forget the log entries so far."""
    driver.get_log("browser")
    driver.get_log("performance")


def requests(driver: Any) -> list[str]:
    """The URL of every request the page made since the last call (from DevTools)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE (errors, failed loads, CSP violations)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
