"""The command line's exit codes, and how a run's problems map to one (SPEC, "Exit codes").

`imgcall.cli` re-exports the public names; its commands count records with a `Tally`
and end with `run_exit_code`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import ItemRecord

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NO_IMAGES",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "Tally",
    "broken_pipe",
    "exit_code_for",
    "run_exit_code",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_NO_IMAGES = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what shells report for a closed pipe


def exit_code_for(error: BaseException, *, whole_input: bool = True) -> int:
    """The exit code for one error: 2 for an input that cannot be read, else 1.

    ``whole_input=False`` marks a problem inside an input that was otherwise read (a
    broken line of JSON Lines): the rest of the input was saved, so that is a 1.
    """
    from .errors import EngineError, InvalidInputError, OutputLockedError

    if isinstance(error, InvalidInputError) and whole_input:
        return EXIT_USAGE
    if isinstance(error, (OutputLockedError, EngineError)):  # the run could not start
        return EXIT_USAGE
    return EXIT_PROBLEMS


class Tally:
    """Counts for the summary lines, and each problem's exit code, as records arrive."""

    def __init__(self) -> None:
        from .counts import RunCounts

        self.counts = RunCounts()
        self.codes: list[int] = []

    def add(self, record: ItemRecord) -> None:
        self.counts.add(record)
        if record.error is not None:
            self.codes.append(exit_code_for(record.error, whole_input=record.index is None))


def run_exit_code(codes: Sequence[int], items: int) -> int:
    """The exit code of a run from its problems' codes and the number of items found.

    The worst problem wins (an unreadable input over a failed item); with no problem, a
    run that found no item at all exits 3.
    """
    if codes:
        return max(codes)
    return EXIT_NO_IMAGES if items == 0 else EXIT_OK


def broken_pipe() -> SystemExit:
    """Quiet the closed output for the rest of the process; the exit to raise."""
    # Python's advice for SIGPIPE: point the dead stream at devnull, so the flush at exit
    # does not print "Exception ignored ... BrokenPipeError".
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return SystemExit(EXIT_BROKEN_PIPE)
