"""imgcall._entry: the console script holds the garbage collector during start-up only."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from imgcall import _entry
from tests.conftest import ITEMS_DIR

REPORT = (
    "import atexit, gc, sys\n"
    "seen = []\n"
    "atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count() > 0, *seen,"
    " file=sys.__stderr__))\n"
)


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    _entry._held = False
    if was:
        gc.enable()


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", REPORT + code, *args], capture_output=True, text=True
    )


@pytest.mark.parametrize("command", ["extract", "ls"])
def test_the_collector_is_back_on_once_a_run_yields_its_first_record(
    tmp_path: Path, command: str
) -> None:
    # The first record's arrival is observed from inside the run: the record renderer
    # notes whether the collector is on by then.
    code = (
        "import imgcall._render as r\n"
        "real = r.table if sys.argv[1] == 'ls' else r.saved_lines\n"
        "def spy(*a, **k):\n"
        "    seen.append(gc.isenabled())\n"
        "    return real(*a, **k)\n"
        "setattr(r, real.__name__, spy)\n"
        "from imgcall._entry import main\n"
        "sys.argv = ['imgcall', *sys.argv[1:]]\n"
        "main()\n"
    )
    source = str(ITEMS_DIR / "response.json")
    out = ["-o", str(tmp_path / "out")] if command == "extract" else []
    done = run(code, command, source, *out)
    assert done.returncode == 0, done.stderr
    enabled, frozen, *during = done.stderr.splitlines()[-1].split()
    assert (enabled, frozen) == ("True", "True")
    assert during and set(during) == {"True"}


def test_python_dash_m_runs_through_the_entry_and_ends_with_the_collector_on() -> None:
    code = (
        "import runpy\n"
        "sys.argv = ['imgcall', '--version']\n"
        "runpy.run_module('imgcall', run_name='__main__')\n"
    )
    done = run(code)
    assert done.returncode == 0 and done.stdout.startswith("imgcall")
    assert done.stderr.split() == ["True", "True"]


def test_release_leaves_a_collector_it_did_not_turn_off_as_it_was(collector: None) -> None:
    gc.disable()  # the caller's own choice
    _entry.release()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
    gc.enable()
    _entry.release()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_cycle_made_after_release_is_still_collected(collector: None) -> None:
    gc.disable()
    _entry._held = True
    _entry.release()
    assert gc.isenabled()

    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]
    del node
    assert gc.collect() >= 1
