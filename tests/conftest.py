"""Shared test helpers: fixture paths, loaders, and isolation from the real home folder."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
ITEMS_DIR = FIXTURES_DIR / "items"
IMAGES_DIR = FIXTURES_DIR / "images"


@pytest.fixture
def load_item() -> Callable[[str], dict[str, Any]]:
    """Load a JSON item fixture by name, e.g. ``load_item("openai_item")``."""

    def load(name: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads((ITEMS_DIR / f"{name}.json").read_text())
        return value

    return load


@pytest.fixture
def image_bytes() -> Callable[[str], bytes]:
    """Read a tiny image fixture by file name, e.g. ``image_bytes("tiny.png")``."""

    def read(name: str) -> bytes:
        return (IMAGES_DIR / name).read_bytes()

    return read


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real home and working folders."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_reaches_the_tests() -> Iterator[None]:
    """Let SIGINT through when the suite was started in the background.

    A shell starts a background job (``cmd &``, ``nohup``) with SIGINT ignored, and
    imgcall keeps an ignored SIGINT ignored, as a program under ``nohup`` should; the
    children of this process would inherit that too. The Ctrl-C tests need the signal
    delivered as a terminal delivers it, wherever the suite was started from.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
