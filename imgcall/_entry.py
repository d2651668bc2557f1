"""The ``imgcall`` console script and ``python -m imgcall``: `imgcall.cli` behind a
start-up that does not run the garbage collector.

Start-up creates some 100,000 objects (click, imgcall's modules, their classes) and
none of them is garbage, yet every few hundred new objects trigger a collection that
walks them: ~4% of the instructions of ``imgcall extract tiny.json``, and in a long run
every full collection walks them all again (~3% of a run of 20 KB images). `main` turns
the collector off before importing the command line; `release` (called by the commands
once their modules are loaded, and at the latest when the command ends) moves every
object made so far out of the collector's sight (`gc.freeze`) and turns it back on, so
cycles made during the run are still collected.
"""

from __future__ import annotations

import gc

__all__ = ["main", "release"]

_held = False


def main() -> None:
    """Run the command line with the collector held during start-up."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True
    try:
        from .cli import main as cli_main

        cli_main()
    finally:
        release()


def release() -> None:
    """Turn the collector back on if `main` turned it off (else leave it as it is)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
